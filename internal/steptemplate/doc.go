// Package steptemplate reads step templates in the community step-template
// library's JSON format (the Octopus Deploy Library, Apache-2.0) and
// prepares their scripts: [Parse] turns a file into a [store.StepTemplate],
// [Substitute] replaces #{Name} references in a script body, and
// [SystemVariables] finds the Octopus system variables a script reads,
// which dynpool does not set.
//
// # Flow
//
// POST /api/v1/step-templates → [Parse] (a *validation.Error naming the
// key on a bad file) → the server seals sensitive defaults and stores the
// version. A task step naming the template → the task runner fills the
// parameters, [Substitute]s the non-sensitive ones into the body and
// passes every parameter as an environment variable, which the agent's
// get_octopusvariable and $OctopusParameters helpers read.
package steptemplate
