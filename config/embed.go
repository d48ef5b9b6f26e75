// Package config embeds the demo default configuration, config/segpipe.yaml, so the
// segpipe binary can run the demo from any directory.
package config

import _ "embed"

// DemoYAML is the content of config/segpipe.yaml.
//
//go:embed segpipe.yaml
var DemoYAML []byte

// DemoName is the name errors in the embedded config are reported under.
const DemoName = "config/segpipe.yaml (embedded)"
