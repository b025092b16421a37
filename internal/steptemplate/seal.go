package steptemplate

// DefaultPlace is the place (see secret.Key.Seal) a sensitive parameter's
// default value is sealed to: the tenant, the template's name and the
// parameter's, so every version of a template opens its defaults and no
// other template or tenant does.
func DefaultPlace(tenantID, template, parameter string) string {
	return "step-template/" + tenantID + "/" + template + "/" + parameter
}
