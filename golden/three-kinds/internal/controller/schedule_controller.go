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

// ScheduleComponent is the entry of ProviderConfig.spec.availableImages that
// provides the Schedule workload.
const ScheduleComponent = "schedule"

// ScheduleDomainKinds are the kinds of the domain service's own API on the
// managed control plane. While objects of these kinds exist, deleting a
// Schedule waits: removing the service under them would orphan user data.
var ScheduleDomainKinds = []schema.GroupVersionKind{
	{Group: scheduleDomainGroup, Version: "v1", Kind: "ExampleSchedule"},
}

// Permissions the provider requests on each cluster it gets access to are
// derived from these rbac markers by `spgen generate`; cluster= says which
// one (onboarding, mcp or workload). Keep them to what the code below needs; what every
// kind's workload stands on is in lifecycle.go.
//
// +spgen:rbac:cluster=workload,groups=apps,resources=deployments,verbs=get;list;watch;create;update;patch;delete
// +spgen:rbac:cluster=mcp,groups=apiextensions.k8s.io,resources=customresourcedefinitions,verbs=get;list;watch;create;update;patch;delete
// +spgen:rbac:cluster=mcp,groups=velero.example.open-control-plane.io,resources=exampleschedules,verbs=get;list;watch

// ScheduleReconciler installs the Schedule domain service for every Schedule
// object: the workload runs in the workload cluster in its own namespace. The
// steps every kind shares are Lifecycle's; what is the Schedule's own is here.
type ScheduleReconciler struct {
	Lifecycle
}

// NewScheduleReconciler builds the reconciler the provider runs for Schedule
// objects; the generated wiring calls it. Give ScheduleReconciler the fields
// your code needs and fill them here.
func NewScheduleReconciler(d provider.Deps) *ScheduleReconciler {
	return &ScheduleReconciler{Lifecycle: newLifecycle(d)}
}

// scheduleWorkload is what the workload of a Schedule is made from.
type scheduleWorkload struct {
	Image string
	workloadConfig
}

// scheduleRound declares what the provider manages for obj, in
// dependency order; Lifecycle's install and uninstall do the rest. To manage
// one more object, add it here.
func (r *ScheduleReconciler) scheduleRound(ctx context.Context, obj *v1alpha1.Schedule, pc *v1alpha1.ProviderConfig, cc clusteraccess.ClusterContext, w scheduleWorkload) round {
	ns := scheduleNamespace(obj)
	target := managed.Workload
	set := r.newSet(v1alpha1.GroupVersion.WithKind("Schedule").GroupKind(), obj, pc, cc)
	r.addWorkloadBase(ctx, set, target, cc, ns, "schedule", w.workloadConfig)

	deployment := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "schedule", Namespace: ns}}
	set.Add(target, deployment, func() error {
		mutateScheduleDeployment(deployment, w, set.Labels())
		return nil
	}).ReadyWhen(func() (bool, string) { return deploymentAvailable(deployment) })

	crd := scheduleDomainCRD()
	set.Add(managed.MCP, crd, func() error {
		crd.Spec = scheduleDomainCRD().Spec
		return nil
	})
	list := func(results []managed.Result, notReady string) {
		obj.Status.Resources = v1alpha1Resources(results, notReady)
	}
	return round{obj: obj, pc: pc, set: set, list: list, blockedBy: ScheduleDomainKinds}
}

// CreateOrUpdate brings the domain service of obj to the requested state.
func (r *ScheduleReconciler) CreateOrUpdate(ctx context.Context, obj *v1alpha1.Schedule, pc *v1alpha1.ProviderConfig, cc clusteraccess.ClusterContext) (ctrl.Result, error) {
	if res, skipped := skip(ctx, obj, pc); skipped {
		return res, nil
	}
	defer r.finishOperation(ctx, obj, pc)
	image, ok := pc.Image(ScheduleComponent, obj.Spec.Version)
	if !ok {
		return r.versionNotAllowed(obj, pc.Name, obj.Spec.Version, pc.AllowedVersions(ScheduleComponent))
	}
	config, err := r.readConfig(ctx, pc.Name, pc.Spec.ImagePullSecrets, pc.Spec.CABundleRef)
	if err != nil {
		return r.configFailed(obj, err)
	}
	w := scheduleWorkload{Image: image, workloadConfig: config}
	// Reconciling at least this often renews the workload's token before
	// it expires.
	return r.install(ctx, r.scheduleRound(ctx, obj, pc, cc, w), min(pc.PollInterval(), serviceTokenRenewal))
}

// Delete removes everything the provider created for obj once no user
// resources of the domain service are left on the managed control plane.
func (r *ScheduleReconciler) Delete(ctx context.Context, obj *v1alpha1.Schedule, pc *v1alpha1.ProviderConfig, cc clusteraccess.ClusterContext) (ctrl.Result, error) {
	if res, skipped := skip(ctx, obj, pc); skipped {
		return res, nil
	}
	defer r.finishOperation(ctx, obj, pc)
	return r.uninstall(ctx, r.scheduleRound(ctx, obj, pc, cc, scheduleWorkload{}), cc.MCPCluster.Client())
}

// IsReferencedConfigMap makes the provider reconcile every Schedule when the
// CA bundle of the ProviderConfig changes. pc is nil until the
// ProviderConfig has been read.
func (r *ScheduleReconciler) IsReferencedConfigMap(_ context.Context, cm *corev1.ConfigMap, pc *v1alpha1.ProviderConfig) bool {
	return cm != nil && cm.Namespace == r.ProviderNamespace && pc.ReferencesConfigMap(cm.Name)
}

// IsReferencedSecret makes the provider reconcile every Schedule when one of the
// image pull secrets of the ProviderConfig changes. pc is nil until the
// ProviderConfig has been read.
func (r *ScheduleReconciler) IsReferencedSecret(_ context.Context, secret *corev1.Secret, pc *v1alpha1.ProviderConfig) bool {
	return secret != nil && secret.Namespace == r.ProviderNamespace && pc.ReferencesPullSecret(secret.Name)
}

// scheduleNamespace is the namespace of the workload on the target cluster,
// unique per Schedule: a workload cluster is shared by many managed control
// planes, and a new Schedule must not wait for an old namespace to finish
// terminating.
func scheduleNamespace(obj *v1alpha1.Schedule) string {
	return "schedule-" + instance(obj)
}

func mutateScheduleDeployment(d *appsv1.Deployment, w scheduleWorkload, labels map[string]string) {
	selector := map[string]string{"app.kubernetes.io/name": "schedule"}
	d.Spec.Replicas = ptr.To[int32](1)
	d.Spec.Selector = &metav1.LabelSelector{MatchLabels: selector}
	d.Spec.Template.Labels = mergeMaps(mergeMaps(d.Spec.Template.Labels, labels), selector)
	d.Spec.Template.Spec.ImagePullSecrets = references(w.PullSecrets)
	d.Spec.Template.Spec.SecurityContext = &corev1.PodSecurityContext{RunAsNonRoot: ptr.To(true)}
	d.Spec.Template.Spec.Volumes = nil
	d.Spec.Template.Spec.Containers = []corev1.Container{{
		Name:  "schedule",
		Image: w.Image,
		SecurityContext: &corev1.SecurityContext{
			AllowPrivilegeEscalation: ptr.To(false),
			Capabilities:             &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
		},
	}}
	trustCABundle(&d.Spec.Template, w.CABundle)
	mountServiceKubeconfig(&d.Spec.Template)
}
