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
	"context"

	"github.com/openmcp-project/opencontrolplane-runtime/pkg/serviceprovider/clusteraccess"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"

	v1alpha1 "example.com/acme/sp-velero/api/v1alpha1"
	"example.com/acme/sp-velero/internal/managed"
	"example.com/acme/sp-velero/internal/provider"
)

// VeleroComponent is the entry of ProviderConfig.spec.availableImages that
// provides the Velero workload.
const VeleroComponent = "velero"

// VeleroDomainKinds are the kinds of the domain service's own API on the
// managed control plane. While objects of these kinds exist, deleting a
// Velero waits: removing the service under them would orphan user data.
var VeleroDomainKinds = []schema.GroupVersionKind{}

// Permissions the provider requests on each cluster it gets access to are
// derived from these rbac markers by `spgen generate`; cluster= says which
// one (onboarding, mcp or workload). Keep them to what the code below needs; what every
// kind's workload stands on is in lifecycle.go.
//
// +spgen:rbac:cluster=workload,groups=apps,resources=deployments,verbs=get;list;watch;create;update;patch;delete

// VeleroReconciler installs the Velero domain service for every Velero
// object: the workload runs in the workload cluster in its own namespace. The
// steps every kind shares are Lifecycle's; what is the Velero's own is here.
type VeleroReconciler struct {
	Lifecycle
}

// NewVeleroReconciler builds the reconciler the provider runs for Velero
// objects; the generated wiring calls it. Give VeleroReconciler the fields
// your code needs and fill them here.
func NewVeleroReconciler(d provider.Deps) *VeleroReconciler {
	return &VeleroReconciler{Lifecycle: newLifecycle(d)}
}

// veleroWorkload is what the workload of a Velero is made from.
type veleroWorkload struct {
	Image string
	workloadConfig
}

// veleroRound declares what the provider manages for obj, in
// dependency order; Lifecycle's install and uninstall do the rest. To manage
// one more object, add it here.
func (r *VeleroReconciler) veleroRound(ctx context.Context, obj *v1alpha1.Velero, pc *v1alpha1.ProviderConfig, cc clusteraccess.ClusterContext, w veleroWorkload) round {
	ns := veleroNamespace(obj)
	target := managed.Workload
	set := r.newSet(v1alpha1.GroupVersion.WithKind("Velero").GroupKind(), obj, pc, cc)
	r.addWorkloadBase(ctx, set, target, cc, ns, "velero", w.workloadConfig)

	deployment := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "velero", Namespace: ns}}
	set.Add(target, deployment, func() error {
		mutateVeleroDeployment(deployment, w, set.Labels())
		return nil
	}).ReadyWhen(func() (bool, string) { return deploymentAvailable(deployment) })
	list := func(results []managed.Result, notReady string) {
		obj.Status.Resources = v1alpha1Resources(results, notReady)
	}
	return round{obj: obj, pc: pc, set: set, list: list, blockedBy: VeleroDomainKinds}
}

// CreateOrUpdate brings the domain service of obj to the requested state.
func (r *VeleroReconciler) CreateOrUpdate(ctx context.Context, obj *v1alpha1.Velero, pc *v1alpha1.ProviderConfig, cc clusteraccess.ClusterContext) (ctrl.Result, error) {
	if res, skipped := skip(ctx, obj, pc); skipped {
		return res, nil
	}
	defer r.finishOperation(ctx, obj, pc)
	image, ok := pc.Image(VeleroComponent, obj.Spec.Version)
	if !ok {
		return r.versionNotAllowed(obj, pc.Name, obj.Spec.Version, pc.AllowedVersions(VeleroComponent))
	}
	config, err := r.readConfig(ctx, pc.Name, pc.Spec.ImagePullSecrets, pc.Spec.CABundleRef)
	if err != nil {
		return r.configFailed(obj, err)
	}
	w := veleroWorkload{Image: image, workloadConfig: config}
	// Reconciling at least this often renews the workload's token before
	// it expires.
	return r.install(ctx, r.veleroRound(ctx, obj, pc, cc, w), min(pc.PollInterval(), serviceTokenRenewal))
}

// Delete removes everything the provider created for obj once no user
// resources of the domain service are left on the managed control plane.
func (r *VeleroReconciler) Delete(ctx context.Context, obj *v1alpha1.Velero, pc *v1alpha1.ProviderConfig, cc clusteraccess.ClusterContext) (ctrl.Result, error) {
	if res, skipped := skip(ctx, obj, pc); skipped {
		return res, nil
	}
	defer r.finishOperation(ctx, obj, pc)
	return r.uninstall(ctx, r.veleroRound(ctx, obj, pc, cc, veleroWorkload{}), cc.MCPCluster.Client())
}

// IsReferencedConfigMap makes the provider reconcile every Velero when the
// CA bundle of the ProviderConfig changes. pc is nil until the
// ProviderConfig has been read.
func (r *VeleroReconciler) IsReferencedConfigMap(_ context.Context, cm *corev1.ConfigMap, pc *v1alpha1.ProviderConfig) bool {
	return cm != nil && cm.Namespace == r.ProviderNamespace && pc.ReferencesConfigMap(cm.Name)
}

// veleroNamespace is the namespace of the workload on the target cluster,
// unique per Velero: a workload cluster is shared by many managed control
// planes, and a new Velero must not wait for an old namespace to finish
// terminating.
func veleroNamespace(obj *v1alpha1.Velero) string {
	return "velero-" + instance(obj)
}

func mutateVeleroDeployment(d *appsv1.Deployment, w veleroWorkload, labels map[string]string) {
	selector := map[string]string{"app.kubernetes.io/name": "velero"}
	d.Spec.Replicas = ptr.To[int32](1)
	d.Spec.Selector = &metav1.LabelSelector{MatchLabels: selector}
	d.Spec.Template.Labels = mergeMaps(mergeMaps(d.Spec.Template.Labels, labels), selector)
	d.Spec.Template.Spec.ImagePullSecrets = references(w.PullSecrets)
	d.Spec.Template.Spec.SecurityContext = &corev1.PodSecurityContext{RunAsNonRoot: ptr.To(true)}
	d.Spec.Template.Spec.Volumes = nil
	d.Spec.Template.Spec.Containers = []corev1.Container{{
		Name:  "velero",
		Image: w.Image,
		SecurityContext: &corev1.SecurityContext{
			AllowPrivilegeEscalation: ptr.To(false),
			Capabilities:             &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
		},
	}}
	trustCABundle(&d.Spec.Template, w.CABundle)
	mountServiceKubeconfig(&d.Spec.Template)
}
