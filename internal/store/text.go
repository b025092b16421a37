package store

import "strings"

// Printable makes text storable in every store: invalid UTF-8 and NUL
// bytes (which PostgreSQL text cannot hold) become U+FFFD. Script output
// may contain anything; the task log and a health check's message keep
// what they can show.
func Printable(text string) string {
	return strings.ReplaceAll(strings.ToValidUTF8(text, "\uFFFD"), "\x00", "\uFFFD")
}
