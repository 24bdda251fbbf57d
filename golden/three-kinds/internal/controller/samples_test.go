/*
Copyright The sp-velero Authors.

Licensed under the Apache License, Version 2.0 (the "License");
you may not use this file except in compliance with the License.
You may obtain a copy of the License at

    http://www.apache.org/licenses/LICENSE-2.0

Unless required by applicable law or agreed to in writing, software
distributed under the License is distributed on an "AS IS" BASIS,
WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
See the License for the specific language governing permissions and
limitations under the License.
*/

package controller_test

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"example.com/acme/sp-velero/internal/wiring"
)

// sampleDirs hold the YAML files the project ships for users: the samples
// and the fixtures of the e2e suite.
var sampleDirs = []string{"config/samples", "test/e2e"}

// TestSamples creates every object of every YAML file in sampleDirs on a
// real API server with the provider's CRDs, with strict field validation
// and without storing it: a field the API does not have (after a rename,
// say) fails, naming the file and the field.
func TestSamples(t *testing.T) {
	c := newClient(t, apiServer, wiring.PlatformScheme())
	root := filepath.Join("..", "..")
	files := 0
	for _, dir := range sampleDirs {
		err := filepath.WalkDir(filepath.Join(root, dir), func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(path, ".yaml") {
				return err
			}
			files++
			name, _ := filepath.Rel(root, path)
			for _, obj := range readObjects(t, path) {
				err := c.Create(run(t), obj, client.DryRunAll, client.FieldValidation(metav1.FieldValidationStrict))
				if err != nil {
					t.Errorf("%s: %s %s: %v", filepath.ToSlash(name), obj.GetKind(), obj.GetName(), err)
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if files == 0 {
		t.Fatalf("no YAML files in %v", sampleDirs)
	}
}

// readObjects reads every object of a YAML file with one or more documents.
func readObjects(t *testing.T, path string) []*unstructured.Unstructured {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = f.Close() }() // read only: closing cannot lose data
	var objects []*unstructured.Unstructured
	decoder := yaml.NewYAMLOrJSONDecoder(f, 4096)
	for {
		obj := &unstructured.Unstructured{}
		err := decoder.Decode(&obj.Object)
		if errors.Is(err, io.EOF) {
			return objects
		}
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if len(obj.Object) > 0 {
			objects = append(objects, obj)
		}
	}
}
