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

package v1alpha1

import (
	corev1 "k8s.io/api/core/v1"
)

// ManagedResource is an object the provider manages for a user, with the
// cluster it lives in and the phase it is in.
type ManagedResource struct {
	corev1.TypedObjectReference `json:",inline"`

	// Cluster the object lives in: platform, mcp or workload.
	// +optional
	Cluster string `json:"cluster,omitempty"`

	// Phase of the object: Progressing, Ready or Terminating.
	Phase string `json:"phase"`

	// Message explains the phase when the object is not ready.
	// +optional
	Message string `json:"message,omitempty"`
}
