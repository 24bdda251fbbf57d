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
	"encoding/json"
	"slices"
	"time"

	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
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

	// Versions users may request, each with the Helm chart that installs
	// it and the values it is installed with.
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=64
	// +kubebuilder:validation:XValidation:rule="self.all(a, self.exists_one(b, b.version == a.version && (has(b.component) ? b.component : '') == (has(a.component) ? a.component : '')))",message="each version may be listed once per component"
	// +optional
	Versions []ChartVersion `json:"versions,omitempty"`

	// CABundleRef selects a key of a ConfigMap in the provider's namespace
	// on the platform cluster holding PEM-encoded CA certificates. The
	// provider copies them to where the workload runs, which trusts them
	// besides the system's. A change to the ConfigMap reaches every
	// workload.
	// +optional
	CABundleRef *corev1.ConfigMapKeySelector `json:"caBundleRef,omitempty"`
}

// ChartVersion is a version users may request and how it is installed.
type ChartVersion struct {
	// Version is what users request in spec.version.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=128
	Version string `json:"version"`

	// Component is the kind the version is for, in lower case, when the
	// provider installs more than one; a version without one serves every
	// kind.
	// +kubebuilder:validation:MaxLength=63
	// +optional
	Component string `json:"component,omitempty"`

	// ChartVersion is the version (OCI tag) of the chart; the version
	// itself when empty.
	// +kubebuilder:validation:MaxLength=128
	// +optional
	ChartVersion string `json:"chartVersion,omitempty"`

	// ChartURL is the OCI repository of the chart, without a tag, e.g.
	// oci://ghcr.io/acme/charts/velero.
	// +kubebuilder:validation:MaxLength=512
	// +kubebuilder:validation:Pattern=`^oci://[a-zA-Z0-9.-]+(:[0-9]+)?(/[a-z0-9._-]+)+$`
	ChartURL string `json:"chartUrl"`

	// ChartPullSecret names a secret of type kubernetes.io/dockerconfigjson
	// in the provider's namespace on the platform cluster with the
	// credentials of the chart registry. The provider copies it next to the
	// chart's OCIRepository.
	// +kubebuilder:validation:MaxLength=253
	// +optional
	ChartPullSecret string `json:"chartPullSecret,omitempty"`

	// ChartCertSecret names a secret in the provider's namespace on the
	// platform cluster whose ca.crt holds the CA certificates of a chart
	// registry with its own CA (and tls.crt and tls.key when the registry
	// wants a client certificate). The provider copies it next to the
	// chart's OCIRepository, as its certSecretRef.
	// +kubebuilder:validation:MaxLength=253
	// +optional
	ChartCertSecret string `json:"chartCertSecret,omitempty"`

	// Values are the chart's values for this version. Secrets listed under
	// imagePullSecrets (as [{name: ...}], the layout of the chart `helm
	// create` writes) are copied from the provider's namespace on the
	// platform cluster to where the workload runs.
	// +kubebuilder:pruning:PreserveUnknownFields
	// +optional
	Values *apiextensionsv1.JSON `json:"values,omitempty"`
}

// ImagePullSecrets lists the secrets the values name under
// imagePullSecrets.
func (v ChartVersion) ImagePullSecrets() []corev1.LocalObjectReference {
	var values struct {
		ImagePullSecrets []corev1.LocalObjectReference `json:"imagePullSecrets"`
	}
	if v.Values != nil {
		// Values of another shape name no secrets: the chart decides
		// what they mean.
		_ = json.Unmarshal(v.Values.Raw, &values)
	}
	return values.ImagePullSecrets
}

// ChartTag is the version of the chart to install.
func (v ChartVersion) ChartTag() string {
	if v.ChartVersion != "" {
		return v.ChartVersion
	}
	return v.Version
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

// Version returns the entry of versions that installs version of the named
// component and whether that version is allowed at all. An entry for the
// component wins over one for every component.
func (o *ProviderConfig) Version(component, version string) (ChartVersion, bool) {
	if o == nil {
		return ChartVersion{}, false
	}
	var found *ChartVersion
	for i, v := range o.Spec.Versions {
		if v.Version == version && (v.Component == component || v.Component == "" && found == nil) {
			found = &o.Spec.Versions[i]
		}
	}
	if found == nil {
		return ChartVersion{}, false
	}
	return *found, true
}

// AllowedVersions lists the versions allowed for the named component.
func (o *ProviderConfig) AllowedVersions(component string) []string {
	if o == nil {
		return nil
	}
	var versions []string
	for _, v := range o.Spec.Versions {
		if (v.Component == "" || v.Component == component) && !slices.Contains(versions, v.Version) {
			versions = append(versions, v.Version)
		}
	}
	return versions
}

// ReferencesPullSecret reports whether the named secret is a chart pull
// secret, a chart registry's certificates or an image pull secret of any
// version.
func (o *ProviderConfig) ReferencesPullSecret(name string) bool {
	if o == nil {
		return false
	}
	for _, v := range o.Spec.Versions {
		if v.ChartPullSecret == name || v.ChartCertSecret == name ||
			slices.Contains(v.ImagePullSecrets(), corev1.LocalObjectReference{Name: name}) {
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
