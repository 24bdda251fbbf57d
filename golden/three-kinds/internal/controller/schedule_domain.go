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

package controller

import (
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

// scheduleDomainGroup is the API group of the example domain API that the
// provider installs into each managed control plane. Replace it, and
// scheduleDomainCRD, with the API of your domain service.
const scheduleDomainGroup = "velero.example.open-control-plane.io"

// scheduleDomainCRD is the example domain API users work with in their
// managed control plane once the Schedule is ready.
func scheduleDomainCRD() *apiextensionsv1.CustomResourceDefinition {
	return &apiextensionsv1.CustomResourceDefinition{
		ObjectMeta: metav1.ObjectMeta{Name: "exampleschedules." + scheduleDomainGroup},
		Spec: apiextensionsv1.CustomResourceDefinitionSpec{
			Group: scheduleDomainGroup,
			Names: apiextensionsv1.CustomResourceDefinitionNames{
				Plural:   "exampleschedules",
				Singular: "exampleschedule",
				Kind:     "ExampleSchedule",
				ListKind: "ExampleScheduleList",
			},
			Scope: apiextensionsv1.NamespaceScoped,
			Versions: []apiextensionsv1.CustomResourceDefinitionVersion{{
				Name:    "v1",
				Served:  true,
				Storage: true,
				Schema: &apiextensionsv1.CustomResourceValidation{
					OpenAPIV3Schema: &apiextensionsv1.JSONSchemaProps{
						Type: "object",
						Properties: map[string]apiextensionsv1.JSONSchemaProps{
							"spec": {
								Type:                   "object",
								XPreserveUnknownFields: ptr.To(true),
							},
						},
					},
				},
			}},
		},
	}
}
