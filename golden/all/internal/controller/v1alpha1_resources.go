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
	"github.com/openmcp-project/opencontrolplane-runtime/pkg/serviceprovider"
	"k8s.io/utils/ptr"

	v1alpha1 "example.com/acme/sp-velero/api/v1alpha1"
	"example.com/acme/sp-velero/internal/managed"
)

// v1alpha1Resources lists results as the status of a v1alpha1 object
// lists them; objects that are not done get the phase notReady.
func v1alpha1Resources(results []managed.Result, notReady string) []v1alpha1.ManagedResource {
	resources := make([]v1alpha1.ManagedResource, 0, len(results))
	for _, res := range results {
		mr := v1alpha1.ManagedResource{Cluster: string(res.Cluster), Phase: serviceprovider.StatusPhaseReady}
		mr.Kind = res.GVK.Kind
		mr.Name = res.Name
		if res.GVK.Group != "" {
			mr.APIGroup = ptr.To(res.GVK.Group)
		}
		if res.Namespace != "" {
			mr.Namespace = ptr.To(res.Namespace)
		}
		switch {
		case !res.Done:
			mr.Phase, mr.Message = notReady, res.Message
		case res.Released:
			mr.Message = res.Message
		}
		resources = append(resources, mr)
	}
	return resources
}
