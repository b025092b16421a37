package api

import "time"

// Variable is a variable of a task or of one step. It reaches the step's
// script as the environment variable of the same name: the name is a
// letter or underscore followed by letters, digits and underscores, and
// does not start with DYNPOOL_ (any other name answers 400 naming the
// field). A step's variable wins over the task's of the same name.
//
// A Sensitive value is stored encrypted, masked ("********") in the task
// log, and never returned: answers carry the name and "sensitive": true
// without "value".
type Variable struct {
	Name      string `json:"name"`
	Value     string `json:"value,omitempty"`
	Sensitive bool   `json:"sensitive,omitempty"`
}

// OutputVariable is a variable a step set for the steps after it by
// printing a service message line:
//
//	##dynpool[setVariable name='NAME' value='VALUE' sensitive='true']
//
// Step is the name of the step that set it; a sensitive one has no Value.
type OutputVariable struct {
	Name      string    `json:"name"`
	Value     string    `json:"value,omitempty"`
	Sensitive bool      `json:"sensitive,omitempty"`
	Step      string    `json:"step"`
	SetAt     time.Time `json:"set_at"`
}

// Artifact is a file a step of a task stored on the server
// (`dynpool agent artifact push`), for later steps and for download.
type Artifact struct {
	Name string `json:"name"`
	// Size is in bytes; SHA256 is the hex digest of the content.
	Size      int64     `json:"size"`
	SHA256    string    `json:"sha256"`
	Step      string    `json:"step"`
	CreatedAt time.Time `json:"created_at"`
}

// ArtifactList is the body of GET /api/v1/tasks/{id}/artifacts and of
// GET /agent/v1/jobs/{id}/artifacts: a task's artifacts by name.
type ArtifactList struct {
	Artifacts []Artifact `json:"artifacts"`
}
