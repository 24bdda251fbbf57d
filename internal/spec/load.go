package spec

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"

	yamlv3 "go.yaml.in/yaml/v3"
	"sigs.k8s.io/yaml"
)

// Load reads and validates spgen.yaml from dir. Unknown fields are errors so
// that a typo never silently changes what is generated; every error names
// the file, and the line where the value is.
func Load(dir string) (*Project, error) { return LoadWith(dir, nil) }

// LoadWith is Load with check, which includes Project.Validate, in its
// place; its input errors are located in the file like Load's own.
func LoadWith(dir string, check func(*Project) error) (*Project, error) {
	data, err := readFile(filepath.Join(dir, FileName), MaxSpecFileSize)
	if err != nil {
		return nil, err
	}
	return ParseWith(data, check)
}

// ParseWith decodes and validates the content of a spgen.yaml, with the
// further check of LoadWith.
func ParseWith(data []byte, check func(*Project) error) (*Project, error) {
	if err := checkShape(data); err != nil {
		return nil, err
	}
	var p Project
	if err := yaml.UnmarshalStrict(data, &p); err != nil {
		return nil, decodeError(FileName, err, data)
	}
	if check == nil {
		check = (*Project).Validate
	}
	if err := check(&p); err != nil {
		return nil, locate(err, data)
	}
	return &p, nil
}

// checkShape refuses what the YAML-to-JSON decoding would accept without
// a word: a second document (ignored), a key given twice, and a key that
// differs from a field name only in case (JSON decoding matches names
// case-insensitively, so MODULE would set module, and of Group and group
// one would silently win). Each error names the line.
func checkShape(data []byte) error {
	dec := yamlv3.NewDecoder(bytes.NewReader(data))
	var doc yamlv3.Node
	if err := dec.Decode(&doc); err != nil {
		return nil // reported with its line by the decoding that follows
	}
	var second yamlv3.Node
	if err := dec.Decode(&second); err == nil {
		return &InputError{File: FileName, Line: second.Line, Msg: "holds a second YAML document; spgen.yaml is one document (remove the --- and what follows it)"}
	}
	return checkKeys(&doc)
}

// fieldNames are the keys spgen.yaml knows, exactly as they are spelt.
var fieldNames = jsonNames(reflect.TypeOf(Project{}), map[string]bool{})

func jsonNames(t reflect.Type, names map[string]bool) map[string]bool {
	for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice || t.Kind() == reflect.Map {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct {
		return names
	}
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name != "" && name != "-" {
			names[name] = true
		}
		jsonNames(f.Type, names)
	}
	return names
}

func checkKeys(n *yamlv3.Node) error {
	if n.Kind == yamlv3.MappingNode {
		seen := map[string]int{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			key := n.Content[i]
			if line, ok := seen[key.Value]; ok {
				return &InputError{File: FileName, Line: key.Line, Msg: fmt.Sprintf("key %q is given twice (first on line %d); keep one", key.Value, line)}
			}
			seen[key.Value] = key.Line
			if !fieldNames[key.Value] {
				for name := range fieldNames {
					if strings.EqualFold(name, key.Value) {
						return &InputError{File: FileName, Line: key.Line, Msg: fmt.Sprintf("unknown field %q: field names are case-sensitive; write %q", key.Value, name)}
					}
				}
			}
		}
	}
	for _, c := range n.Content {
		if err := checkKeys(c); err != nil {
			return err
		}
	}
	return nil
}

// readFile reads a project file that must be a regular file of at most
// limit bytes; anything else is bad input, reported with the file's name.
func readFile(path string, limit int64) ([]byte, error) {
	name := filepath.Base(path)
	info, err := os.Lstat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, &InputError{File: name, Msg: "not found: not a spgen project (run spgen init first)"}
	case err != nil:
		return nil, &InputError{File: name, Msg: err.Error()}
	case info.IsDir():
		return nil, &InputError{File: name, Msg: "is a directory, not a file"}
	case !info.Mode().IsRegular():
		return nil, &InputError{File: name, Msg: "is not a regular file (a symbolic link or a device)"}
	case info.Size() > limit:
		return nil, &InputError{File: name, Msg: fmt.Sprintf("is %d bytes; at most %d are accepted", info.Size(), limit)}
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, &InputError{File: name, Msg: err.Error()}
	}
	defer f.Close()
	// The file may grow between the check and the read.
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, &InputError{File: name, Msg: err.Error()}
	}
	if int64(len(data)) > limit {
		return nil, &InputError{File: name, Msg: fmt.Sprintf("is more than %d bytes", limit)}
	}
	return data, nil
}

// fieldOfFlag names the spgen.yaml field a flag sets.
var fieldOfFlag = map[string]string{
	"--module":        "module",
	"--group":         "group",
	"--provider-name": "providerName",
	"--kind":          "kind",
	"--version":       "version",
	"--deploy":        "options.deploy",
}

// locate turns a validation error about a flag into one about its field in
// spgen.yaml, with the line the field is on.
func locate(err error, data []byte) error {
	ie, ok := err.(*InputError)
	if !ok {
		return err
	}
	out := &InputError{File: FileName, Value: ie.Value, Msg: ie.Msg, kind: -1}
	field := fieldOfFlag[ie.Flag]
	if ie.Field != "" {
		field = ie.Field
	}
	path := strings.Split(field, ".")
	if ie.kind >= 0 && field != "kinds" {
		path = []string{"kinds", strconv.Itoa(ie.kind), field}
		field = fmt.Sprintf("kinds[%d].%s", ie.kind, field)
	}
	out.Field = field
	if out.Value == "" {
		out.Field, out.Msg = "", field+" "+ie.Msg
	}
	var doc yamlv3.Node
	if yamlv3.Unmarshal(data, &doc) == nil {
		out.Line = lineOf(&doc, path)
	}
	return out
}

// lineOf finds the line of the value at path (mapping keys and sequence
// indexes) in a YAML document; 0 when it is not there.
func lineOf(n *yamlv3.Node, path []string) int {
	if n.Kind == yamlv3.DocumentNode && len(n.Content) == 1 {
		n = n.Content[0]
	}
	for _, step := range path {
		switch n.Kind {
		case yamlv3.MappingNode:
			var next *yamlv3.Node
			for i := 0; i+1 < len(n.Content); i += 2 {
				if n.Content[i].Value == step {
					next = n.Content[i+1]
				}
			}
			if next == nil {
				return 0
			}
			n = next
		case yamlv3.SequenceNode:
			i, err := strconv.Atoi(step)
			if err != nil || i >= len(n.Content) {
				return 0
			}
			n = n.Content[i]
		default:
			return 0
		}
	}
	return n.Line
}

var (
	syntaxLine   = regexp.MustCompile(`^error converting YAML to JSON: yaml: line (\d+): (.*)$`)
	unknownField = regexp.MustCompile(`unknown field "([^"]+)"`)
	badType      = regexp.MustCompile(`cannot unmarshal (\S+) into Go struct field \S+?\.([\w.]+) of type (\S+)`)
)

// decodeError turns a YAML decoding error into one that names the file and,
// where it can be found, the line.
func decodeError(file string, err error, data []byte) error {
	msg := err.Error()
	if m := syntaxLine.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		return &InputError{File: file, Line: line, Msg: "not valid YAML: " + m[2]}
	}
	var doc yamlv3.Node
	_ = yamlv3.Unmarshal(data, &doc)
	if m := unknownField.FindStringSubmatch(msg); m != nil {
		return &InputError{File: file, Line: keyLine(&doc, m[1]), Msg: fmt.Sprintf("unknown field %q", m[1])}
	}
	if m := badType.FindStringSubmatch(msg); m != nil {
		return &InputError{File: file, Line: lineOf(&doc, strings.Split(m[2], ".")), Field: m[2], Msg: fmt.Sprintf("must be a %s, not a %s", m[3], m[1])}
	}
	return &InputError{File: file, Msg: msg}
}

// keyLine finds the first mapping key named key, at any depth.
func keyLine(n *yamlv3.Node, key string) int {
	if n.Kind == yamlv3.MappingNode {
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == key {
				return n.Content[i].Line
			}
		}
	}
	for _, c := range n.Content {
		if line := keyLine(c, key); line > 0 {
			return line
		}
	}
	return 0
}
