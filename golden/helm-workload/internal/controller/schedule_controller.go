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
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/openmcp-project/controller-utils/pkg/clusters"
	"github.com/openmcp-project/opencontrolplane-runtime/pkg/serviceprovider"
	"github.com/openmcp-project/opencontrolplane-runtime/pkg/serviceprovider/clusteraccess"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/tools/events"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	logf "sigs.k8s.io/controller-runtime/pkg/log"

	v1alpha1 "example.com/acme/sp-velero/api/v1alpha1"
	"example.com/acme/sp-velero/internal/managed"
	"example.com/acme/sp-velero/internal/provider"
)

// ScheduleComponent is the component of ProviderConfig.spec.versions
// entries for Schedule objects alone; entries without one serve every kind.
const ScheduleComponent = "schedule"

// ScheduleDomainKinds are the kinds of the domain service's own API on the
// managed control plane. While objects of these kinds exist, deleting a
// Schedule waits: removing the service under them would orphan user data.
var ScheduleDomainKinds = []schema.GroupVersionKind{}

// Requeue intervals while waiting for something outside the provider.
const (
	scheduleWaitShort = 5 * time.Second
	scheduleWaitLong  = 30 * time.Second
)

// Permissions the provider requests on each cluster it gets access to are
// derived from these rbac markers by `spgen generate`; cluster= says which
// one (onboarding, mcp or workload). Flux installs the chart with the provider's access
// to the workload cluster: list every kind the chart creates there, and keep
// the rest to what the code below needs.
//
// +spgen:rbac:cluster=workload,groups="",resources=namespaces;secrets;configmaps;services;serviceaccounts,verbs=get;list;watch;create;update;patch;delete
// +spgen:rbac:cluster=workload,groups=rbac.authorization.k8s.io,resources=clusterroles;clusterrolebindings,verbs=get;list;watch;create;update;patch;delete
// +spgen:rbac:cluster=workload,groups=apps,resources=deployments,verbs=get;list;watch;create;update;patch;delete
// +spgen:rbac:cluster=mcp,groups="",resources=namespaces;serviceaccounts,verbs=get;list;watch;create;update;patch;delete
// +spgen:rbac:cluster=mcp,groups="",resources=serviceaccounts/token,verbs=create
// +spgen:rbac:cluster=mcp,groups=rbac.authorization.k8s.io,resources=clusterroles;clusterrolebindings,verbs=get;list;watch;create;update;patch;delete

// What the domain service itself may do on the managed control plane, from
// the workload cluster: `spgen generate` turns these markers into
// provider.Deps.ServicePermissions (the provider is granted them too, since
// Kubernetes only lets it hand out what it holds).
//
// +spgen:service:rbac:groups="",resources=namespaces,verbs=get;list;watch

// ScheduleReconciler installs the Schedule domain service for every Schedule
// object: the workload runs in the workload cluster in its own namespace,
// installed from its Helm chart by Flux on the platform cluster.
type ScheduleReconciler struct {
	PlatformCluster   *clusters.Cluster
	OnboardingCluster *clusters.Cluster
	// ProviderNamespace is the provider's namespace on the platform cluster,
	// where the image pull secrets and the CA bundle of the ProviderConfig
	// live.
	ProviderNamespace string
	// ProviderName owns, with each Schedule, what is managed for it.
	ProviderName string
	// Recorder reports failures as Kubernetes Events on the Schedule.
	Recorder events.EventRecorder
	// DomainKinds block deletion while objects of them exist on the managed
	// control plane; ScheduleDomainKinds by default.
	DomainKinds []schema.GroupVersionKind
	// ServicePermissions are what the workload may do on the managed
	// control plane.
	ServicePermissions []rbacv1.PolicyRule
}

// NewScheduleReconciler builds the reconciler the provider runs for Schedule
// objects; the generated wiring calls it. Give ScheduleReconciler the fields
// your code needs and fill them here.
func NewScheduleReconciler(d provider.Deps) *ScheduleReconciler {
	return &ScheduleReconciler{
		PlatformCluster:    d.PlatformCluster,
		OnboardingCluster:  d.OnboardingCluster,
		ProviderNamespace:  d.ProviderNamespace,
		ProviderName:       d.ProviderName,
		Recorder:           d.Recorder,
		ServicePermissions: d.ServicePermissions,
	}
}

// scheduleOwner records obj as the owner of what is managed for it:
// objects of another kind or provider, even for the same managed control
// plane, are never touched for obj.
func (r *ScheduleReconciler) scheduleOwner(obj *v1alpha1.Schedule) managed.Owner {
	return managed.Owner{Provider: r.ProviderName, GroupKind: v1alpha1.GroupVersion.WithKind("Schedule").GroupKind(), Namespace: obj.Namespace, Name: obj.Name}
}

// scheduleWorkload is what the workload of a Schedule is made from.
type scheduleWorkload struct {
	Chart Chart
	// Values are the chart's values, from scheduleValues.
	Values      map[string]any
	PullSecrets []corev1.Secret
	// CABundle holds PEM certificates the workload trusts besides the
	// system's; nil when the ProviderConfig names none.
	CABundle []byte
}

// scheduleObjects declares what the provider manages for obj, in
// dependency order; Apply and Delete do the rest. To manage one more object,
// add it here.
func (r *ScheduleReconciler) scheduleObjects(ctx context.Context, obj *v1alpha1.Schedule, pc *v1alpha1.ProviderConfig, cc clusteraccess.ClusterContext, w scheduleWorkload) *managed.Set {
	ns := scheduleNamespace(obj)
	target, access := managed.Workload, cc.WorkloadAccessSecretKey
	set := managed.NewSet(r.scheduleOwner(obj), map[managed.Cluster]client.Client{
		managed.Platform: r.PlatformCluster.Client(),
		managed.MCP:      cc.MCPCluster.Client(),
		managed.Workload: cc.WorkloadCluster.Client(),
	})
	set.Guard(notIgnored(r.OnboardingCluster.Client(), r.PlatformCluster.Client(), obj, pc))

	set.Add(target, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, nil)
	addPullSecrets(set, target, ns, w.PullSecrets)
	addCABundle(set, target, ns, w.CABundle)
	addServiceAccess(ctx, set, cc.MCPCluster, ns, "schedule", r.ServicePermissions)

	AddRelease(set, ns, Release{
		Chart:     w.Chart,
		Access:    access,
		Namespace: ns,
		Name:      "schedule",
		Values:    w.Values,
		Options:   DefaultReleaseOptions(),
	})
	return set
}

// CreateOrUpdate brings the domain service of obj to the requested state.
func (r *ScheduleReconciler) CreateOrUpdate(ctx context.Context, obj *v1alpha1.Schedule, pc *v1alpha1.ProviderConfig, cc clusteraccess.ClusterContext) (ctrl.Result, error) {
	log := logf.FromContext(ctx)
	// The runtime looked for the annotation on obj before it read obj again
	// to add its finalizer: a user may have set it in between.
	if ignored(obj) || ignored(pc) {
		log.Info("the object or its ProviderConfig carries the ignore operation annotation; changing nothing", "providerConfig", pc.Name)
		return ctrl.Result{RequeueAfter: pc.PollInterval()}, nil
	}
	defer r.finishOperation(ctx, obj, pc)

	version, ok := pc.Version(ScheduleComponent, obj.Spec.Version)
	if !ok {
		allowed := pc.AllowedVersions(ScheduleComponent)
		msg := fmt.Sprintf("version %q is not allowed by ProviderConfig %q (allowed: %s); set spec.version to an allowed version or ask your platform operator to allow it",
			obj.Spec.Version, pc.Name, listOrNone(allowed))
		r.fail(obj, ReasonVersionNotAllowed, "ResolveVersion", msg)
		return ctrl.Result{}, nil
	}
	w, err := r.readScheduleWorkload(ctx, pc, version)
	if err != nil {
		return r.configFailed(obj, err)
	}

	status := obj.Status.DeepCopy()
	serviceprovider.StatusProgressing(obj, ReasonReconciling, "Installing the domain service")
	results, err := r.scheduleObjects(ctx, obj, pc, cc, w).Apply(ctx)
	if errors.Is(err, errIgnored) {
		obj.Status = *status
		log.Info("stopped without writing", "reason", err.Error())
		return ctrl.Result{}, nil
	}
	obj.Status.Resources = scheduleResources(results, serviceprovider.StatusPhaseProgressing)
	released(r.Recorder, obj, results)
	if err != nil {
		r.fail(obj, ReasonApplyFailed, "Apply", err.Error())
		return ctrl.Result{}, err
	}
	if waiting, ok := managed.Waiting(results); ok {
		serviceprovider.StatusProgressing(obj, ReasonWorkloadNotReady, waiting.Message)
		return ctrl.Result{RequeueAfter: scheduleWaitShort}, nil
	}
	serviceprovider.StatusReady(obj)
	// Reconciling at least this often renews the workload's token before
	// it expires.
	return ctrl.Result{RequeueAfter: min(pc.PollInterval(), serviceTokenRenewal)}, nil
}

// Delete removes everything the provider created for obj once no user
// resources of the domain service are left on the managed control plane.
func (r *ScheduleReconciler) Delete(ctx context.Context, obj *v1alpha1.Schedule, pc *v1alpha1.ProviderConfig, cc clusteraccess.ClusterContext) (ctrl.Result, error) {
	if ignored(obj) || ignored(pc) {
		// A non-zero requeue keeps the finalizer: the runtime removes it
		// as soon as Delete returns without one.
		return ctrl.Result{RequeueAfter: pc.PollInterval()}, nil
	}
	defer r.finishOperation(ctx, obj, pc)

	kinds := r.DomainKinds
	if kinds == nil {
		kinds = ScheduleDomainKinds
	}
	blocking, err := blockingKinds(ctx, cc.MCPCluster.Client(), kinds)
	if err != nil {
		setTerminating(obj, ReasonDeleteFailed, "cannot check for remaining user resources: "+err.Error())
		return ctrl.Result{}, err
	}
	if len(blocking) > 0 {
		msg := fmt.Sprintf("deletion waits until all objects of kind %s are deleted from the managed control plane", strings.Join(blocking, ", "))
		setTerminating(obj, ReasonDeletionBlocked, msg)
		warn(r.Recorder, obj, ReasonDeletionBlocked, "Delete", msg)
		return ctrl.Result{RequeueAfter: scheduleWaitShort}, nil
	}

	status := obj.Status.DeepCopy()
	setTerminating(obj, ReasonTerminating, "Removing the domain service")
	results, err := r.scheduleObjects(ctx, obj, pc, cc, scheduleWorkload{}).Delete(ctx)
	if errors.Is(err, errIgnored) {
		obj.Status = *status
		return ctrl.Result{RequeueAfter: pc.PollInterval()}, nil
	}
	obj.Status.Resources = scheduleResources(remaining(results), serviceprovider.StatusPhaseTerminating)
	released(r.Recorder, obj, results)
	if err != nil {
		msg := "removing the domain service failed: " + err.Error()
		setTerminating(obj, ReasonDeleteFailed, msg)
		warn(r.Recorder, obj, ReasonDeleteFailed, "Delete", msg)
		return ctrl.Result{}, err
	}
	if waiting, ok := managed.Waiting(results); ok {
		setTerminating(obj, ReasonTerminating, waiting.Message)
		return ctrl.Result{RequeueAfter: scheduleWaitShort}, nil
	}
	if kept := managed.Released(results); len(kept) > 0 {
		// One more round, so the status says what stays before obj goes.
		setTerminating(obj, ReasonReleased, kept[0].Message)
		return ctrl.Result{RequeueAfter: time.Second}, nil
	}
	return ctrl.Result{}, nil
}

// IsReferencedConfigMap makes the provider reconcile every Schedule when the
// CA bundle of the ProviderConfig changes. pc is nil until the
// ProviderConfig has been read.
func (r *ScheduleReconciler) IsReferencedConfigMap(_ context.Context, cm *corev1.ConfigMap, pc *v1alpha1.ProviderConfig) bool {
	return cm != nil && cm.Namespace == r.ProviderNamespace && pc.ReferencesConfigMap(cm.Name)
}

// fail reports a problem the user or operator must fix: as condition and Event.
func (r *ScheduleReconciler) fail(obj *v1alpha1.Schedule, reason, action, msg string) {
	serviceprovider.StatusProgressing(obj, reason, msg)
	warn(r.Recorder, obj, reason, action, msg)
}

// configFailed reports what the ProviderConfig refers to but cannot be
// used, and retries later: the platform operator has to fix it.
func (r *ScheduleReconciler) configFailed(obj *v1alpha1.Schedule, err error) (ctrl.Result, error) {
	var ce *ConfigError
	if errors.As(err, &ce) {
		r.fail(obj, ce.Reason, ce.Action, ce.Message)
		return ctrl.Result{RequeueAfter: scheduleWaitLong}, nil
	}
	r.fail(obj, ReasonApplyFailed, "ReadProviderConfig", err.Error())
	return ctrl.Result{}, err
}

// finishOperation removes the reconcile operation annotation from obj and the
// ProviderConfig after the reconcile it asked for.
func (r *ScheduleReconciler) finishOperation(ctx context.Context, obj *v1alpha1.Schedule, pc *v1alpha1.ProviderConfig) {
	log := logf.FromContext(ctx)
	if err := removeReconcileAnnotation(ctx, r.OnboardingCluster.Client(), obj); err != nil {
		log.Error(err, "cannot remove operation annotation", "object", client.ObjectKeyFromObject(obj))
	}
	if err := removeReconcileAnnotation(ctx, r.PlatformCluster.Client(), pc); err != nil {
		log.Error(err, "cannot remove operation annotation", "providerConfig", pc.Name)
	}
}

// scheduleNamespace is the namespace of the workload on the target cluster,
// unique per Schedule: a workload cluster is shared by many managed control
// planes, and a new Schedule must not wait for an old namespace to finish
// terminating.
func scheduleNamespace(obj *v1alpha1.Schedule) string {
	return "schedule-" + scheduleInstance(obj)
}

// scheduleInstance is a short stable ID of obj, used in names and labels.
func scheduleInstance(obj *v1alpha1.Schedule) string {
	sum := sha256.Sum256([]byte(obj.Namespace + "/" + obj.Name))
	return hex.EncodeToString(sum[:])[:12]
}

// readScheduleWorkload reads what version of the ProviderConfig pc
// refers to and maps it to the chart's values.
func (r *ScheduleReconciler) readScheduleWorkload(ctx context.Context, pc *v1alpha1.ProviderConfig, version v1alpha1.ChartVersion) (scheduleWorkload, error) {
	platform := r.PlatformCluster.Client()
	w := scheduleWorkload{Chart: Chart{Repository: version.ChartURL, Version: version.ChartTag(), Interval: pc.PollInterval()}}
	var err error
	if w.Chart.PullSecret, w.Chart.CertSecret, err = readChartSecrets(ctx, platform, r.ProviderNamespace, pc.Name, version.ChartPullSecret, version.ChartCertSecret); err != nil {
		return w, err
	}
	if w.PullSecrets, err = readPullSecrets(ctx, platform, r.ProviderNamespace, pc.Name, version.ImagePullSecrets()); err != nil {
		return w, err
	}
	if w.CABundle, err = readCABundle(ctx, platform, r.ProviderNamespace, pc.Name, pc.Spec.CABundleRef); err != nil {
		return w, err
	}
	if w.Values, err = scheduleValues(version, w); err != nil {
		return w, &ConfigError{Reason: ReasonValuesInvalid, Action: "MapValues", Message: fmt.Sprintf(
			"version %q of ProviderConfig %s: %v", version.Version, pc.Name, err)}
	}
	return w, nil
}

// scheduleValues are the values the chart is installed with: those
// the ProviderConfig sets for the requested version (image pull secrets
// among them, under imagePullSecrets), plus the CA bundle and the
// kubeconfig for the managed control plane the provider puts next to the
// workload, in the layout of the chart `helm create` writes (volumes,
// volumeMounts, podAnnotations). When the chart expects them elsewhere,
// change this function, and the test chart with it. Values never carry
// secret data: the HelmRelease is readable on the platform cluster.
func scheduleValues(version v1alpha1.ChartVersion, w scheduleWorkload) (map[string]any, error) {
	values, err := chartValues(version.Values)
	if err != nil {
		return nil, err
	}
	if err := trustCABundleValues(values, w.CABundle); err != nil {
		return nil, err
	}
	if err := serviceKubeconfigValues(values); err != nil {
		return nil, err
	}
	return values, nil
}

// scheduleResources lists results in the status; objects that are
// not ready get the phase notReady.
func scheduleResources(results []managed.Result, notReady string) []v1alpha1.ManagedResource {
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
		case !res.Ready:
			mr.Phase, mr.Message = notReady, res.Message
		case res.Released:
			mr.Message = res.Message
		}
		resources = append(resources, mr)
	}
	return resources
}
