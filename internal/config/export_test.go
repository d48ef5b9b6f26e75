package config

import "flag"

var update = flag.Bool("update", false, "rewrite the golden files of testdata/ and docs/configuration.md's segments table")

// Update is -update, for the tests of package config_test.
var Update = update
