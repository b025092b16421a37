package variable

import (
	"errors"
	"strings"
	"testing"
)

func TestCheckName(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		ok   bool
	}{
		{"ARCHIVE_SHA", true},
		{"_x1", true},
		{"a", true},
		{"", false},
		{"1ABC", false},
		{"WITH-DASH", false},
		{"WITH SPACE", false},
		{"ÄRGER", false},
		{"DYNPOOL_JOB_TOKEN", false},
		{"dynpool_x", false},
		{strings.Repeat("A", MaxNameLength), true},
		{strings.Repeat("A", MaxNameLength+1), false},
	} {
		if err := CheckName(tc.name); (err == nil) != tc.ok {
			t.Errorf("CheckName(%q) = %v, want ok=%v", tc.name, err, tc.ok)
		}
	}
}

func TestParseReadsSetVariable(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		line string
		want SetVariable
	}{
		{`##dynpool[setVariable name='X' value='Y']`, SetVariable{Name: "X", Value: "Y"}},
		{`##dynpool[setVariable value='' name='X' sensitive='true']` + "  \r", SetVariable{Name: "X", Sensitive: true}},
		{`##dynpool[setVariable name='X' value='a|'b||c|nd|re|[f|]g]h' sensitive='false']`, SetVariable{Name: "X", Value: "a'b|c\nd\re[f]g]h"}},
	} {
		got, err := Parse(tc.line)
		if err != nil || *got != tc.want {
			t.Errorf("Parse(%q) = %+v, %v; want %+v", tc.line, got, err, tc.want)
		}
	}
}

func TestParseRefusesWithoutQuotingTheValue(t *testing.T) {
	t.Parallel()
	for _, line := range []string{
		`##dynpool[setVariable name='X' value='s3cret'`,
		`##dynpool[unset name='X' value='s3cret']`,
		`##dynpool[setVariable name='X' value='s3cret' colour='red']`,
		`##dynpool[setVariable name='X' value='s3cret' name='Y']`,
		`##dynpool[setVariable name='X' value='s3cret|x']`,
		`##dynpool[setVariable name='X' value='s3cret|']`,
		`##dynpool[setVariable name='X' value='s3cret]`,
		`##dynpool[setVariable name='X' value='s3cret'x]`,
		`##dynpool[setVariable name='X' value=s3cret]`,
		`##dynpool[setVariable value='s3cret']`,
		`##dynpool[setVariable name='X']`,
		`##dynpool[setVariable name='X' value='s3cret' sensitive='yes']`,
		`##dynpool[setVariable name='DYNPOOL_X' value='s3cret']`,
		`##dynpool[setVariable name='1X' value='s3cret']`,
		`##dynpool[setVariable name='X' value='` + strings.Repeat("s", MaxValueSize+1) + `']`,
	} {
		_, err := Parse(line)
		if err == nil || errors.Is(err, ErrNotMessage) || strings.Contains(err.Error(), "s3cret") {
			t.Errorf("Parse(%.60q) = %v, want an error that does not quote the value", line, err)
		}
	}
	for _, line := range []string{"hello", " ##dynpool[setVariable name='X' value='Y']", "##dynpool"} {
		if _, err := Parse(line); !errors.Is(err, ErrNotMessage) {
			t.Errorf("Parse(%q) = %v, want ErrNotMessage", line, err)
		}
	}
}

func TestFormatRoundTrips(t *testing.T) {
	t.Parallel()
	for _, v := range []SetVariable{
		{Name: "A", Value: "plain"},
		{Name: "B", Value: "it's | [weird]\nand\rmulti", Sensitive: true},
		{Name: "C", Value: ""},
	} {
		got, err := Parse(Format(v))
		if err != nil || *got != v {
			t.Errorf("Parse(Format(%+v)) = %+v, %v", v, got, err)
		}
	}
}

func TestMaskReplacesEveryValueLongestFirst(t *testing.T) {
	t.Parallel()
	m := NewMasker("secret", "secret-long", "", "line1\nline2")
	for in, want := range map[string]string{
		"nothing to hide here":          "nothing to hide here",
		"a secret and secret-long!":     "a " + Mask + " and " + Mask + "!",
		"secretsecret":                  Mask + Mask,
		"line1 then line2":              Mask + " then " + Mask,
		"":                              "",
		"s e c r e t":                   "s e c r e t",
		"prefix-secret-long-and-secret": "prefix-" + Mask + "-and-" + Mask,
	} {
		if got := m.Mask(in); got != want {
			t.Errorf("Mask(%q) = %q, want %q", in, got, want)
		}
	}
	var none *Masker
	if got := none.Mask("secret"); got != "secret" || !none.Empty() {
		t.Errorf("nil Masker changed text: %q", got)
	}
}

// TestStreamMasksAcrossChunkBoundaries cuts a line holding a value at
// every position, as the agent cuts long lines, and checks the value
// never comes out, whole or in pieces, and nothing else is lost.
func TestStreamMasksAcrossChunkBoundaries(t *testing.T) {
	t.Parallel()
	const value = "TOPSECRETVALUE"
	m := NewMasker(value, "short")
	line := "head-" + value + "-mid-" + value + "-tail-short"
	want := "head-" + Mask + "-mid-" + Mask + "-tail-" + Mask
	for cut1 := 0; cut1 <= len(line); cut1++ {
		for cut2 := cut1; cut2 <= len(line); cut2++ {
			s := NewStream(m)
			var out []string
			out = append(out, s.Write(line[:cut1], true)...)
			out = append(out, s.Write(line[cut1:cut2], true)...)
			last := s.Write(line[cut2:], false)
			if len(last) != 1 {
				t.Fatalf("the last chunk gave %d strings, want 1", len(last))
			}
			out = append(out, last...)
			joined := strings.Join(out, "")
			if joined != want {
				t.Fatalf("cuts %d,%d: joined output %q, want %q", cut1, cut2, joined, want)
			}
			for _, o := range out {
				for n := 4; n <= len(value); n++ {
					for i := 0; i+n <= len(value); i++ {
						if strings.HasSuffix(o, value[:n]) || strings.HasPrefix(o, value[len(value)-n:]) {
							t.Fatalf("cuts %d,%d: chunk %q holds a piece of the value", cut1, cut2, o)
						}
					}
				}
			}
		}
	}
}

func TestStreamWithoutValuesPassesChunksThrough(t *testing.T) {
	t.Parallel()
	s := NewStream(NewMasker())
	if got := s.Write("abc", true); len(got) != 1 || got[0] != "abc" {
		t.Fatalf("Write = %q, want the chunk as is", got)
	}
	if got := s.Write("", false); len(got) != 1 || got[0] != "" {
		t.Fatalf("Write of an empty end = %q, want one empty string", got)
	}
}
