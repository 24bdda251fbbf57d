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
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// ScheduleSpec is what a user asks for: one Schedule installs the domain
// service into the user's managed control plane.
type ScheduleSpec struct {
	// Version of the domain service to install. It must be listed in the
	// availableImages of the ProviderConfig.
	// +kubebuilder:validation:MinLength=1
	// +required
	Version string `json:"version"`

	// Add the options your domain service offers below. Run `spgen generate`
	// after every change to refresh deepcopy code and CRDs.
}

// ScheduleStatus is the observed state of a Schedule. Conditions are only
// ever updated, never removed, so users can follow what happened.
type ScheduleStatus struct {
	// Conditions describe the state of the domain service.
	// +listType=map
	// +listMapKey=type
	// +optional
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// ObservedGeneration is the generation last reconciled by the provider.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// Phase summarises the conditions: Progressing, Ready or Terminating.
	// +optional
	Phase string `json:"phase,omitempty"`

	// Resources lists what the provider manages for this Schedule.
	// +listType=atomic
	// +optional
	Resources []ManagedResource `json:"resources,omitempty"`
}

// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:storageversion
// +kubebuilder:metadata:labels="openmcp.cloud/cluster=onboarding"
// +kubebuilder:printcolumn:name="Version",type=string,JSONPath=`.spec.version`
// +kubebuilder:printcolumn:name="Phase",type=string,JSONPath=`.status.phase`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`

// Schedule requests the velero domain service for the managed control
// plane of the same name and namespace.
type Schedule struct {
	metav1.TypeMeta `json:",inline"`

	// +optional
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// +required
	Spec ScheduleSpec `json:"spec"`

	// +optional
	Status ScheduleStatus `json:"status,omitempty"`
}

// +kubebuilder:object:root=true

// ScheduleList contains a list of Schedule.
type ScheduleList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []Schedule `json:"items"`
}

func init() {
	SchemeBuilder.Register(&Schedule{}, &ScheduleList{})
}

// Finalizer is the finalizer the provider keeps on a Schedule until
// everything it created for it is gone.
func (o *Schedule) Finalizer() string {
	return GroupVersion.Group + "/finalizer"
}

// GetStatus returns the status, compared by the runtime to decide on a patch.
func (o *Schedule) GetStatus() any {
	return o.Status
}

// GetConditions gives the status helpers write access to the conditions.
func (o *Schedule) GetConditions() *[]metav1.Condition {
	return &o.Status.Conditions
}

// SetPhase sets the phase shown to users.
func (o *Schedule) SetPhase(phase string) {
	o.Status.Phase = phase
}

// SetObservedGeneration records the generation that was reconciled.
func (o *Schedule) SetObservedGeneration(gen int64) {
	o.Status.ObservedGeneration = gen
}
