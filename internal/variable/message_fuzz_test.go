package variable

import "testing"

// FuzzParse feeds arbitrary output lines to the service-message parser,
// which reads every line a step prints. It holds Parse to: no panic; an
// accepted message has a valid name and a value within MaxValueSize; and
// Format of what was accepted parses back to the same variable. Seeds are
// the f.Add lines below and testdata/fuzz/FuzzParse.
func FuzzParse(f *testing.F) {
	for _, seed := range []string{
		"",
		"plain output",
		"##dynpool[",
		"##dynpool[]",
		"##dynpool[setVariable name='A' value='1']",
		"##dynpool[setVariable name='A' value='x|'y|n|r|[|]||' sensitive='true']\r",
		"##dynpool[setVariable value='v' name='B_2' sensitive='false']  ",
		"##dynpool[setVariable name='A' value='|",
		"##dynpool[setVariable name='A' value='|x']",
		"##dynpool[setVariable name='A' name='B' value='']",
		"##dynpool[setVariable name=A value='1']",
		"##dynpool[setVariable  name='A'   value='1' ]",
		"##dynpool[other name='A']",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, line string) {
		v, err := Parse(line)
		if err != nil {
			if v != nil {
				t.Fatalf("Parse(%q) = %+v with error %v; want nil with an error", line, v, err)
			}
			return
		}
		if err := CheckName(v.Name); err != nil {
			t.Fatalf("Parse(%q) accepted name %q: %v", line, v.Name, err)
		}
		if len(v.Value) > MaxValueSize {
			t.Fatalf("Parse(%q) accepted a value of %d bytes, over %d", line, len(v.Value), MaxValueSize)
		}
		again, err := Parse(Format(*v))
		if err != nil || *again != *v {
			t.Fatalf("Parse(Format(%+v)) = %+v, %v; want it back", *v, again, err)
		}
	})
}
