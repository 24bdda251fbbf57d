// Package migration rewrites what users keep in their projects when a
// template generation changes the shape of an API the project serves, so
// that upgrade carries their data over instead of leaving it behind.
package migration

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"

	"go.yaml.in/yaml/v3"
)

// HelmVersions rewrites the ProviderConfig objects of API group group in a
// YAML stream from the shape Helm projects had before generation 9
// (spec.availableCharts with one chart per component and a list of
// versions, spec.chartPullSecret and spec.imagePullSecrets) to
// spec.versions, one entry per version: its chartUrl, the chart pull
// secret, and the image pull secrets in its values. A component is named
// only when there were several. It reports whether anything changed;
// content without such an object is returned as it is.
func HelmVersions(content []byte, group string) ([]byte, bool, error) {
	if !bytes.Contains(content, []byte("availableCharts")) {
		return content, false, nil
	}
	var docs []*yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(content))
	changed := false
	for {
		var doc yaml.Node
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			// Not YAML spgen can read: not a manifest to carry over.
			return content, false, nil
		}
		if len(doc.Content) == 1 && isProviderConfig(doc.Content[0], group) {
			c, err := convert(doc.Content[0])
			if err != nil {
				return nil, false, err
			}
			changed = changed || c
		}
		docs = append(docs, &doc)
	}
	if !changed {
		return content, false, nil
	}
	var out bytes.Buffer
	enc := yaml.NewEncoder(&out)
	enc.SetIndent(2)
	for _, doc := range docs {
		if err := enc.Encode(doc); err != nil {
			return nil, false, err
		}
	}
	if err := enc.Close(); err != nil {
		return nil, false, err
	}
	return out.Bytes(), true, nil
}

func isProviderConfig(obj *yaml.Node, group string) bool {
	apiVersion, kind := value(obj, "apiVersion"), value(obj, "kind")
	return kind != nil && kind.Value == "ProviderConfig" && apiVersion != nil && strings.HasPrefix(apiVersion.Value, group+"/")
}

// convert rewrites the spec of one ProviderConfig.
func convert(obj *yaml.Node) (bool, error) {
	spec := value(obj, "spec")
	if spec == nil || spec.Kind != yaml.MappingNode {
		return false, nil
	}
	charts := value(spec, "availableCharts")
	if charts == nil {
		return false, nil
	}
	if charts.Kind != yaml.SequenceNode {
		return false, &Error{Line: charts.Line, Msg: "spec.availableCharts is not a list"}
	}
	pullSecret := value(spec, "chartPullSecret")
	imagePullSecrets := value(spec, "imagePullSecrets")
	versions := &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq"}
	for _, chart := range charts.Content {
		name, url, list := value(chart, "name"), value(chart, "chart"), value(chart, "versions")
		if name == nil || url == nil || list == nil || list.Kind != yaml.SequenceNode {
			return false, &Error{Line: chart.Line, Msg: "an entry of spec.availableCharts needs name, chart and versions"}
		}
		for _, v := range list.Content {
			entry := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
			add(entry, "version", scalar(v.Value, "!!str"))
			if len(charts.Content) > 1 {
				add(entry, "component", scalar(name.Value, "!!str"))
			}
			add(entry, "chartUrl", scalar(url.Value, "!!str"))
			if pullSecret != nil && value(pullSecret, "name") != nil {
				add(entry, "chartPullSecret", scalar(value(pullSecret, "name").Value, "!!str"))
			}
			if imagePullSecrets != nil && len(imagePullSecrets.Content) > 0 {
				values := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
				add(values, "imagePullSecrets", imagePullSecrets)
				add(entry, "values", values)
			}
			versions.Content = append(versions.Content, entry)
		}
	}
	var kept []*yaml.Node
	for i := 0; i+1 < len(spec.Content); i += 2 {
		switch key := spec.Content[i]; key.Value {
		case "availableCharts":
			key.Value = "versions"
			kept = append(kept, key, versions)
		case "chartPullSecret", "imagePullSecrets":
		default:
			kept = append(kept, key, spec.Content[i+1])
		}
	}
	spec.Content = kept
	return true, nil
}

// Error is an object the migration cannot carry over, at a line of the
// YAML it read.
type Error struct {
	Line int
	Msg  string
}

func (e *Error) Error() string { return fmt.Sprintf("line %d: %s", e.Line, e.Msg) }

// value returns the value of key in mapping m, nil when there is none.
func value(m *yaml.Node, key string) *yaml.Node {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

func add(m *yaml.Node, key string, v *yaml.Node) {
	m.Content = append(m.Content, scalar(key, "!!str"), v)
}

func scalar(v, tag string) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: tag, Value: v}
}
