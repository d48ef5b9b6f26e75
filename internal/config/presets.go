package config

import (
	"embed"
	"fmt"
	"path"

	"go.yaml.in/yaml/v3"

	"github.com/segpipe/segpipe/internal/vendors"
)

// presetFiles holds the presets of the registry's vendors (vendors.Vendor.Preset): the source
// keys (base_url, auth type, page size, entities with their paths, pagination and columns) a
// config can take as they are.
//
//go:embed presets/*.yaml
var presetFiles embed.FS

// Preset returns the YAML of a vendor's preset, or false when the vendor has none.
func Preset(vendor string) ([]byte, bool) {
	v, ok := vendors.Lookup(vendor)
	if !ok || v.Preset == "" {
		return nil, false
	}
	b, err := presetFiles.ReadFile("presets/" + path.Base(v.Preset))
	return b, err == nil
}

// applyPresets merges each source's vendor preset under the source's own keys: what the
// config says wins, key by key, and an entity absent from the config comes whole from the
// preset. Keys from a preset keep the preset file's line numbers in errors.
func applyPresets(root *yaml.Node) error {
	sources := mapValue(root, "sources")
	if sources == nil || sources.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(sources.Content); i += 2 {
		src := sources.Content[i+1]
		if src.Kind != yaml.MappingNode {
			continue
		}
		vendor := mapValue(src, "vendor")
		if vendor == nil || vendor.Kind != yaml.ScalarNode {
			continue
		}
		b, ok := Preset(vendor.Value)
		if !ok {
			continue
		}
		var doc yaml.Node
		if err := yaml.Unmarshal(b, &doc); err != nil {
			return fmt.Errorf("preset %s: %w", vendor.Value, err)
		}
		if len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
			return fmt.Errorf("preset %s is not a mapping", vendor.Value)
		}
		mergeUnder(src, doc.Content[0])
	}
	return nil
}

// mergeUnder adds to dst every key of base that dst lacks, recursing into mappings both have.
// Entity columns are not merged: a config that lists an entity's columns lists all of them.
func mergeUnder(dst, base *yaml.Node) {
	for i := 0; i+1 < len(base.Content); i += 2 {
		k, bv := base.Content[i], base.Content[i+1]
		dv := mapValue(dst, k.Value)
		switch {
		case dv == nil:
			// Errors in what the preset supplied point at the config's source block: the
			// preset's own line numbers mean nothing in the user's file.
			atLine(k, dst.Line)
			atLine(bv, dst.Line)
			dst.Content = append(dst.Content, k, bv)
		case dv.Kind == yaml.MappingNode && bv.Kind == yaml.MappingNode && k.Value != "columns":
			mergeUnder(dv, bv)
		}
	}
}

func atLine(n *yaml.Node, line int) {
	n.Line = line
	for _, c := range n.Content {
		atLine(c, line)
	}
}

func mapValue(n *yaml.Node, key string) *yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}
