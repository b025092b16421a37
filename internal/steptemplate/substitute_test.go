package steptemplate

import (
	"reflect"
	"testing"

	"github.com/dynpool/dynpool/internal/validation"
)

func TestSubstitute(t *testing.T) {
	t.Parallel()
	values := map[string]Value{"Greeting.Name": {Value: "Ada"}, "Count": {Value: "2"}, "Secret": {Value: "s", Sensitive: true}}
	tests := []struct {
		name, body, want string
		warnings         []string
	}{
		{"names, ignoring case and spaces", "hi #{Greeting.Name} x#{ count }", "hi Ada x2", nil},
		{"escaped", "##{Greeting.Name} and #{Greeting.Name}", "#{Greeting.Name} and Ada", nil},
		{"unknown left with one warning", "#{Nope} #{Nope}", "#{Nope} #{Nope}",
			[]string{"#{Nope} names no parameter or variable of the step; it is left in the script as is"}},
		{"system variable", "#{Octopus.Environment.Name}", "#{Octopus.Environment.Name}",
			[]string{"#{Octopus.Environment.Name} is an Octopus system variable dynpool does not set; it is left in the script as is"}},
		{"expressions", "#{if Count}x#{/if} #{Count | ToUpper}", "#{if Count}x#{/if} #{Count | ToUpper}", []string{
			"#{if Count} is an expression dynpool does not evaluate; it is left in the script as is",
			"#{/if} is an expression dynpool does not evaluate; it is left in the script as is",
			"#{Count | ToUpper} is an expression dynpool does not evaluate; it is left in the script as is"}},
		{"unclosed", "a #{Count", "a #{Count", nil},
		{"bash is left alone", `echo "${#arr[@]} ${x}"`, `echo "${#arr[@]} ${x}"`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, warnings, err := Substitute("f", tt.body, values)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want || !reflect.DeepEqual(warnings, tt.warnings) {
				t.Errorf("Substitute(%q) = %q, %q; want %q, %q", tt.body, got, warnings, tt.want, tt.warnings)
			}
		})
	}
}

func TestSubstituteRefusesASensitiveValue(t *testing.T) {
	t.Parallel()
	_, _, err := Substitute("steps[0].template", "echo #{secret}", map[string]Value{"Secret": {Value: "s", Sensitive: true}})
	if v, ok := validation.As(err); !ok || v.Field != "steps[0].template" {
		t.Fatalf("error = %v, want a validation error on the field", err)
	}
}

func TestSystemVariables(t *testing.T) {
	t.Parallel()
	body := `$a = $OctopusParameters["Octopus.Release.Number"]; x=$(get_octopusvariable 'Octopus.Environment.Name')
#{Octopus.Environment.Name} get_octopusvariable("Octopus.Action[Deploy].Output.X") "Octopus.Release.Number"`
	want := []string{"Octopus.Action[Deploy].Output.X", "Octopus.Environment.Name", "Octopus.Release.Number"}
	if got := SystemVariables(body); !reflect.DeepEqual(got, want) {
		t.Errorf("SystemVariables = %q, want %q", got, want)
	}
}
