package kubernetes

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"
)

// standbyTenant ends the name of the namespace standby workers (of no
// tenant yet) live in; tenant ids are never this word.
const standbyTenant = "standby"

// namespaceName returns the name of tenant's namespace, or of the standby
// namespace for tenant "": <prefix><installation>-<tenant>, made a DNS
// label (see dnsLabel) when tenant ids are not.
func (cfg *Config) namespaceName(tenant string) string {
	if tenant == "" {
		tenant = standbyTenant
	}
	return dnsLabel(cfg.NamespacePrefix + cfg.Installation + "-" + tenant)
}

// podName returns the name of worker's pod in its namespace.
func podName(worker string) string {
	return dnsLabel("worker-" + worker)
}

// resourceID returns the provider.Resource ID of a pod: "<namespace>/<name>".
func resourceID(namespace, name string) string { return namespace + "/" + name }

// splitResourceID returns the namespace and name of a resource id, and
// false for an id no pod can have.
func splitResourceID(id string) (namespace, name string, ok bool) {
	namespace, name, ok = strings.Cut(id, "/")
	if !ok || len(validation.IsDNS1123Label(namespace)) > 0 || len(validation.IsDNS1123Subdomain(name)) > 0 {
		return "", "", false
	}
	return namespace, name, true
}

// suffixLen is how many hex digits of a hash end a name or label value
// that had to be changed, so that two different originals stay apart.
const suffixLen = 10

// dnsLabel returns s when it is a DNS label (RFC 1123: at most 63
// lowercase letters, digits and dashes, starting and ending with a letter
// or digit), and otherwise s lowercased, with other characters made
// dashes, cut short and ended with "-" and a hash of s.
func dnsLabel(s string) string {
	if len(validation.IsDNS1123Label(s)) == 0 {
		return s
	}
	b := []byte(strings.ToLower(s))
	for i, c := range b {
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') {
			b[i] = '-'
		}
	}
	return shorten(string(b), s, validation.DNS1123LabelMaxLength, isLowerAlnum)
}

// labelValue returns s when it is a valid label value (at most 63
// letters, digits, '-', '_' and '.', starting and ending with a letter or
// digit, or empty), and otherwise s with other characters made dashes,
// cut short and ended with "-" and a hash of s. The real value goes into
// an annotation of the same key.
func labelValue(s string) string {
	if len(validation.IsValidLabelValue(s)) == 0 {
		return s
	}
	b := []byte(s)
	for i, c := range b {
		if !isAlnum(c) && c != '-' && c != '_' && c != '.' {
			b[i] = '-'
		}
	}
	return shorten(string(b), s, validation.LabelValueMaxLength, isAlnum)
}

// shorten returns cleaned, cut to leave room for a hash of original and
// trimmed of leading and trailing characters that are not ends, followed
// by "-" and the hash: at most maxLen characters.
func shorten(cleaned, original string, maxLen int, end func(byte) bool) string {
	sum := sha256.Sum256([]byte(original))
	suffix := hex.EncodeToString(sum[:])[:suffixLen]
	if len(cleaned) > maxLen-suffixLen-1 {
		cleaned = cleaned[:maxLen-suffixLen-1]
	}
	cleaned = strings.TrimFunc(cleaned, func(r rune) bool { return r > 127 || !end(byte(r)) })
	if cleaned == "" {
		return suffix
	}
	return cleaned + "-" + suffix
}

func isLowerAlnum(c byte) bool { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') }

func isAlnum(c byte) bool { return isLowerAlnum(c) || (c >= 'A' && c <= 'Z') }
