package catalog

import (
	_ "embed"
	"fmt"
)

//go:embed builtin.yaml
var builtinYAML []byte

// Builtin returns the built-in catalog, the one the server uses without
// --catalog: windows-2019 (the default Windows image), ubuntu-18.04 and
// ubuntu-22.04 (preview), with aliases windows-default and ubuntu-default,
// as the hosted product's dynamic worker documentation lists them. Each call
// returns a fresh copy the caller may keep. It panics if builtin.yaml is
// invalid, which its tests rule out.
func Builtin() *Catalog {
	return mustParse(builtinYAML)
}

// mustParse is [Parse] for a catalog compiled into the binary: an error is
// a programming error, so it panics.
func mustParse(data []byte) *Catalog {
	c, err := Parse(data)
	if err != nil {
		panic(fmt.Sprintf("parse builtin catalog: %v", err))
	}
	return c
}
