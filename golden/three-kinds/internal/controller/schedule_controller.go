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
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/tools/events"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	logf "sigs.k8s.io/controller-runtime/pkg/log"

	v1alpha1 "example.com/acme/sp-velero/api/v1alpha1"
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

// Requeue intervals while waiting for something outside the provider.
const (
	scheduleWaitShort = 5 * time.Second
	scheduleWaitLong  = 30 * time.Second
)

// Permissions the provider requests on the cluster the workload runs in (and
// on the managed control plane) are derived from these rbac markers by
// `spgen generate`. Keep them to what the code below needs.
//
// +kubebuilder:rbac:groups="",resources=namespaces,verbs=get;create;update;patch;delete
// +kubebuilder:rbac:groups="",resources=secrets,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=apps,resources=deployments,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=apiextensions.k8s.io,resources=customresourcedefinitions,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=velero.example.open-control-plane.io,resources=exampleschedules,verbs=get;list;watch

// ScheduleReconciler installs the Schedule domain service for every Schedule
// object: the workload runs in the workload cluster in its own namespace.
type ScheduleReconciler struct {
	PlatformCluster   *clusters.Cluster
	OnboardingCluster *clusters.Cluster
	// ProviderNamespace is the provider's namespace on the platform cluster,
	// where the image pull secrets of the ProviderConfig live.
	ProviderNamespace string
	// Recorder reports failures as Kubernetes Events on the Schedule.
	Recorder events.EventRecorder
	// DomainKinds block deletion while objects of them exist on the managed
	// control plane; ScheduleDomainKinds by default.
	DomainKinds []schema.GroupVersionKind
}

// NewScheduleReconciler builds the reconciler the provider runs for Schedule
// objects; the generated wiring calls it. Give ScheduleReconciler the fields
// your code needs and fill them here.
func NewScheduleReconciler(d provider.Deps) *ScheduleReconciler {
	return &ScheduleReconciler{
		PlatformCluster:   d.PlatformCluster,
		OnboardingCluster: d.OnboardingCluster,
		ProviderNamespace: d.ProviderNamespace,
		Recorder:          d.Recorder,
	}
}

// CreateOrUpdate brings the domain service of obj to the requested state.
func (r *ScheduleReconciler) CreateOrUpdate(ctx context.Context, obj *v1alpha1.Schedule, pc *v1alpha1.ProviderConfig, cc clusteraccess.ClusterContext) (ctrl.Result, error) {
	log := logf.FromContext(ctx)
	if ignored(pc) {
		log.Info("ProviderConfig carries the ignore operation annotation; changing nothing", "providerConfig", pc.Name)
		return ctrl.Result{RequeueAfter: pc.PollInterval()}, nil
	}
	defer r.finishOperation(ctx, obj, pc)

	image, ok := pc.Image(ScheduleComponent, obj.Spec.Version)
	if !ok {
		allowed := pc.AllowedVersions(ScheduleComponent)
		msg := fmt.Sprintf("version %q is not allowed by ProviderConfig %q (allowed: %s); set spec.version to an allowed version or ask your platform operator to allow it",
			obj.Spec.Version, pc.Name, listOrNone(allowed))
		r.fail(obj, ReasonVersionNotAllowed, "ResolveVersion", msg)
		return ctrl.Result{}, nil
	}

	serviceprovider.StatusProgressing(obj, ReasonReconciling, "Installing the domain service")
	target := r.target(cc)
	ns := scheduleNamespace(obj)
	labels := scheduleLabels(obj)

	namespace := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}
	if _, err := controllerutil.CreateOrUpdate(ctx, target, namespace, func() error {
		namespace.Labels = mergeLabels(namespace.Labels, labels)
		return nil
	}); err != nil {
		return r.applyFailed(obj, "Namespace "+ns, err)
	}

	pullSecrets, err := syncPullSecrets(ctx, r.PlatformCluster.Client(), r.ProviderNamespace, target, ns, pc.Spec.ImagePullSecrets, labels)
	if err != nil {
		var missing *MissingSecretError
		if errors.As(err, &missing) {
			r.fail(obj, ReasonPullSecretMissing, "CopyPullSecret",
				missing.Error()+"; create it there or remove it from spec.imagePullSecrets of ProviderConfig "+pc.Name)
			return ctrl.Result{RequeueAfter: scheduleWaitLong}, nil
		}
		return r.applyFailed(obj, "image pull secrets", err)
	}

	deployment := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "schedule", Namespace: ns}}
	if _, err := controllerutil.CreateOrUpdate(ctx, target, deployment, func() error {
		mutateScheduleDeployment(deployment, image, pullSecrets, labels)
		return nil
	}); err != nil {
		return r.applyFailed(obj, "Deployment "+ns+"/schedule", err)
	}

	crd := scheduleDomainCRD()
	if _, err := controllerutil.CreateOrUpdate(ctx, cc.MCPCluster.Client(), crd, func() error {
		crd.Labels = mergeLabels(crd.Labels, labels)
		crd.Spec = scheduleDomainCRD().Spec
		return nil
	}); err != nil {
		return r.applyFailed(obj, "CustomResourceDefinition "+crd.Name, err)
	}

	available := deploymentAvailable(deployment)
	obj.Status.Resources = []v1alpha1.ManagedResource{
		scheduleManaged("", "Namespace", ns, "", serviceprovider.StatusPhaseReady, ""),
	}
	for _, s := range pullSecrets {
		obj.Status.Resources = append(obj.Status.Resources, scheduleManaged("", "Secret", s.Name, ns, serviceprovider.StatusPhaseReady, ""))
	}
	if available {
		obj.Status.Resources = append(obj.Status.Resources, scheduleManaged("apps", "Deployment", deployment.Name, ns, serviceprovider.StatusPhaseReady, ""))
	} else {
		obj.Status.Resources = append(obj.Status.Resources, scheduleManaged("apps", "Deployment", deployment.Name, ns, serviceprovider.StatusPhaseProgressing, "waiting for the Deployment to become available"))
	}
	obj.Status.Resources = append(obj.Status.Resources, scheduleManaged("apiextensions.k8s.io", "CustomResourceDefinition", crd.Name, "", serviceprovider.StatusPhaseReady, ""))

	if !available {
		serviceprovider.StatusProgressing(obj, ReasonWorkloadNotReady, fmt.Sprintf("waiting for Deployment %s/%s to become available", ns, deployment.Name))
		return ctrl.Result{RequeueAfter: scheduleWaitShort}, nil
	}
	serviceprovider.StatusReady(obj)
	return ctrl.Result{}, nil
}

// Delete removes everything the provider created for obj once no user
// resources of the domain service are left on the managed control plane.
func (r *ScheduleReconciler) Delete(ctx context.Context, obj *v1alpha1.Schedule, pc *v1alpha1.ProviderConfig, cc clusteraccess.ClusterContext) (ctrl.Result, error) {
	if ignored(pc) {
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

	setTerminating(obj, ReasonTerminating, "Removing the domain service")
	ns := scheduleNamespace(obj)
	target := r.target(cc)
	objs := []client.Object{
		&appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "schedule", Namespace: ns}},
	}
	var secrets corev1.SecretList
	if err := target.List(ctx, &secrets, client.InNamespace(ns), client.MatchingLabels(scheduleLabels(obj))); err != nil {
		setTerminating(obj, ReasonDeleteFailed, "cannot list copied image pull secrets: "+err.Error())
		return ctrl.Result{}, err
	}
	for i := range secrets.Items {
		objs = append(objs, &secrets.Items[i])
	}
	objs = append(objs, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}})
	remaining, err := deleteAll(ctx, target, objs...)
	if err == nil {
		var rest []client.Object
		rest, err = deleteAll(ctx, cc.MCPCluster.Client(), scheduleDomainCRD())
		remaining = append(remaining, rest...)
	}
	if err != nil {
		msg := "removing the domain service failed: " + err.Error()
		setTerminating(obj, ReasonDeleteFailed, msg)
		warn(r.Recorder, obj, ReasonDeleteFailed, "Delete", msg)
		return ctrl.Result{}, err
	}
	if len(remaining) > 0 {
		setTerminating(obj, ReasonTerminating, "waiting for deletion of "+describe(remaining))
		return ctrl.Result{RequeueAfter: scheduleWaitShort}, nil
	}
	obj.Status.Resources = nil
	return ctrl.Result{}, nil
}

// IsReferencedSecret makes the provider reconcile every Schedule when one of the
// image pull secrets of the ProviderConfig changes. pc is nil until the
// ProviderConfig has been read.
func (r *ScheduleReconciler) IsReferencedSecret(_ context.Context, secret *corev1.Secret, pc *v1alpha1.ProviderConfig) bool {
	return secret != nil && secret.Namespace == r.ProviderNamespace && pc.ReferencesPullSecret(secret.Name)
}

// target is the cluster the workload runs in.
func (r *ScheduleReconciler) target(cc clusteraccess.ClusterContext) client.Client {
	return cc.WorkloadCluster.Client()
}

// fail reports a problem the user or operator must fix: as condition and Event.
func (r *ScheduleReconciler) fail(obj *v1alpha1.Schedule, reason, action, msg string) {
	serviceprovider.StatusProgressing(obj, reason, msg)
	warn(r.Recorder, obj, reason, action, msg)
}

func (r *ScheduleReconciler) applyFailed(obj *v1alpha1.Schedule, what string, err error) (ctrl.Result, error) {
	r.fail(obj, ReasonApplyFailed, "Apply", fmt.Sprintf("applying %s failed: %v", what, err))
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

func scheduleLabels(obj *v1alpha1.Schedule) map[string]string {
	return map[string]string{
		ManagedByLabel: ManagedByValue,
		InstanceLabel:  scheduleInstance(obj),
	}
}

func mutateScheduleDeployment(d *appsv1.Deployment, image string, pullSecrets []corev1.LocalObjectReference, labels map[string]string) {
	selector := map[string]string{"app.kubernetes.io/name": "schedule"}
	d.Labels = mergeLabels(d.Labels, labels)
	d.Spec.Replicas = ptr.To[int32](1)
	d.Spec.Selector = &metav1.LabelSelector{MatchLabels: selector}
	d.Spec.Template.Labels = mergeLabels(mergeLabels(d.Spec.Template.Labels, labels), selector)
	d.Spec.Template.Spec.ImagePullSecrets = pullSecrets
	d.Spec.Template.Spec.SecurityContext = &corev1.PodSecurityContext{RunAsNonRoot: ptr.To(true)}
	d.Spec.Template.Spec.Containers = []corev1.Container{{
		Name:  "schedule",
		Image: image,
		SecurityContext: &corev1.SecurityContext{
			AllowPrivilegeEscalation: ptr.To(false),
			Capabilities:             &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
		},
	}}
}

func scheduleManaged(group, kind, name, namespace, phase, message string) v1alpha1.ManagedResource {
	mr := v1alpha1.ManagedResource{Phase: phase, Message: message}
	mr.Kind = kind
	mr.Name = name
	if group != "" {
		mr.APIGroup = ptr.To(group)
	}
	if namespace != "" {
		mr.Namespace = ptr.To(namespace)
	}
	return mr
}
