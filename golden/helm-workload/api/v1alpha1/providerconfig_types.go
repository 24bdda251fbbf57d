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
	"slices"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// DefaultPollInterval is how often every object is reconciled again when the
// ProviderConfig does not say otherwise, so drift on target clusters is repaired.
const DefaultPollInterval = time.Minute

// ProviderConfigSpec is how platform operators configure the provider.
type ProviderConfigSpec struct {
	// PollInterval is how often every object is reconciled again.
	// +kubebuilder:default:="1m"
	// +optional
	PollInterval *metav1.Duration `json:"pollInterval,omitempty"`

	// AvailableCharts is the allow-list of versions users may request, with
	// the Helm chart that provides each of them.
	// +listType=map
	// +listMapKey=name
	// +optional
	AvailableCharts []ChartVersions `json:"availableCharts,omitempty"`

	// ChartPullSecret names a secret of type kubernetes.io/dockerconfigjson
	// in the provider's namespace on the platform cluster with the
	// credentials of the chart registry. The provider copies it next to the
	// chart's OCIRepository.
	// +optional
	ChartPullSecret *corev1.LocalObjectReference `json:"chartPullSecret,omitempty"`

	// ImagePullSecrets name secrets in the provider's namespace on the
	// platform cluster. The provider copies them to where the workload runs
	// and passes them to the chart in its values.
	// +listType=atomic
	// +optional
	ImagePullSecrets []corev1.LocalObjectReference `json:"imagePullSecrets,omitempty"`

	// CABundleRef selects a key of a ConfigMap in the provider's namespace
	// on the platform cluster holding PEM-encoded CA certificates. The
	// provider copies them to where the workload runs, which trusts them
	// besides the system's. A change to the ConfigMap reaches every
	// workload.
	// +optional
	CABundleRef *corev1.ConfigMapKeySelector `json:"caBundleRef,omitempty"`
}

// ChartVersions names a Helm chart and the versions of it users may request.
type ChartVersions struct {
	// Name identifies the component the chart installs.
	// +kubebuilder:validation:MinLength=1
	Name string `json:"name"`

	// Versions users may request; each is a version (OCI tag) of the chart.
	// +kubebuilder:validation:MinItems=1
	// +listType=set
	Versions []string `json:"versions"`

	// Chart is the OCI repository of the chart, without a tag, e.g.
	// oci://ghcr.io/acme/charts/velero.
	// +kubebuilder:validation:Pattern=`^oci://.+`
	Chart string `json:"chart"`
}

// ProviderConfigStatus is the observed state of the ProviderConfig.
type ProviderConfigStatus struct {
	// +listType=map
	// +listMapKey=type
	// +optional
	Conditions []metav1.Condition `json:"conditions,omitempty"`
}

// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:scope=Cluster
// +kubebuilder:storageversion
// +kubebuilder:metadata:labels="openmcp.cloud/cluster=platform"
// +kubebuilder:printcolumn:name="Poll Interval",type=string,JSONPath=`.spec.pollInterval`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`

// ProviderConfig configures the provider. The provider reads only the
// ProviderConfig named after its provider name.
type ProviderConfig struct {
	metav1.TypeMeta `json:",inline"`

	// +optional
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// +optional
	Spec ProviderConfigSpec `json:"spec,omitempty"`

	// +optional
	Status ProviderConfigStatus `json:"status,omitempty"`
}

// +kubebuilder:object:root=true

// ProviderConfigList contains a list of ProviderConfig.
type ProviderConfigList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []ProviderConfig `json:"items"`
}

func init() {
	SchemeBuilder.Register(&ProviderConfig{}, &ProviderConfigList{})
}

// PollInterval returns the configured interval, or DefaultPollInterval when
// none is set. It is safe to call on a nil ProviderConfig.
func (o *ProviderConfig) PollInterval() time.Duration {
	if o == nil || o.Spec.PollInterval == nil || o.Spec.PollInterval.Duration <= 0 {
		return DefaultPollInterval
	}
	return o.Spec.PollInterval.Duration
}

// Chart returns the OCI repository of the chart that installs version of
// the named component and whether that version is allowed at all.
func (o *ProviderConfig) Chart(name, version string) (string, bool) {
	if o == nil {
		return "", false
	}
	for _, c := range o.Spec.AvailableCharts {
		if c.Name == name && slices.Contains(c.Versions, version) {
			return c.Chart, true
		}
	}
	return "", false
}

// AllowedVersions lists the versions allowed for the named component.
func (o *ProviderConfig) AllowedVersions(name string) []string {
	if o == nil {
		return nil
	}
	for _, c := range o.Spec.AvailableCharts {
		if c.Name == name {
			return c.Versions
		}
	}
	return nil
}

// ReferencesPullSecret reports whether the named secret is the chart pull
// secret or one of the image pull secrets.
func (o *ProviderConfig) ReferencesPullSecret(name string) bool {
	if o == nil {
		return false
	}
	if o.Spec.ChartPullSecret != nil && o.Spec.ChartPullSecret.Name == name {
		return true
	}
	for _, ref := range o.Spec.ImagePullSecrets {
		if ref.Name == name {
			return true
		}
	}
	return false
}

// ReferencesConfigMap reports whether the named ConfigMap holds the CA
// bundle.
func (o *ProviderConfig) ReferencesConfigMap(name string) bool {
	return o != nil && o.Spec.CABundleRef != nil && o.Spec.CABundleRef.Name == name
}
