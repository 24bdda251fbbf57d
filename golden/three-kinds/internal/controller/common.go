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
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"

	"github.com/openmcp-project/opencontrolplane-runtime/pkg/serviceprovider"
	apiconst "github.com/openmcp-project/openmcp-operator/api/constants"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/tools/events"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
)

// Labels put on everything the provider creates, so it can find and remove it.
const (
	ManagedByLabel = "app.kubernetes.io/managed-by"
	InstanceLabel  = "velero.services.open-control-plane.io/instance"
	ManagedByValue = "velero"
)

// Reasons of the Ready condition. They are part of the API: users and tools
// match on them, so change them only with care.
const (
	ReasonReconciling       = "Reconciling"
	ReasonVersionNotAllowed = "VersionNotAllowed"
	ReasonPullSecretMissing = "PullSecretMissing"
	ReasonApplyFailed       = "ApplyFailed"
	ReasonWorkloadNotReady  = "WorkloadNotReady"
	ReasonDeletionBlocked   = "DeletionBlocked"
	ReasonDeleteFailed      = "DeleteFailed"
	ReasonTerminating       = "Terminating"
)

// ignored reports whether obj carries the ignore operation annotation. Ignored
// objects must be treated as if they did not exist: no change at all.
func ignored(obj client.Object) bool {
	return obj.GetAnnotations()[apiconst.OperationAnnotation] == apiconst.OperationAnnotationValueIgnore
}

// removeReconcileAnnotation removes the reconcile operation annotation once
// the reconcile it asked for has run. It patches a copy so that the caller's
// in-memory status, which the runtime writes afterwards, is not replaced by
// the server's.
func removeReconcileAnnotation(ctx context.Context, c client.Client, obj client.Object) error {
	if obj.GetAnnotations()[apiconst.OperationAnnotation] != apiconst.OperationAnnotationValueReconcile {
		return nil
	}
	cp, ok := obj.DeepCopyObject().(client.Object)
	if !ok {
		return fmt.Errorf("cannot copy %T", obj)
	}
	base, _ := cp.DeepCopyObject().(client.Object)
	annotations := cp.GetAnnotations()
	delete(annotations, apiconst.OperationAnnotation)
	cp.SetAnnotations(annotations)
	if err := c.Patch(ctx, cp, client.MergeFrom(base)); err != nil {
		return client.IgnoreNotFound(err)
	}
	// The runtime patches the status afterwards with a diff that can carry
	// the resourceVersion; it must be the one this patch produced, or the
	// status patch fails with a conflict.
	obj.SetAnnotations(cp.GetAnnotations())
	obj.SetResourceVersion(cp.GetResourceVersion())
	return nil
}

// setTerminating marks obj as being deleted, with a reason users can act on.
func setTerminating(obj serviceprovider.API, reason, message string) {
	meta.SetStatusCondition(obj.GetConditions(), metav1.Condition{
		Type:               serviceprovider.ServiceProviderConditionReady,
		Status:             metav1.ConditionFalse,
		ObservedGeneration: obj.GetGeneration(),
		Reason:             reason,
		Message:            message,
	})
	obj.SetObservedGeneration(obj.GetGeneration())
	obj.SetPhase(serviceprovider.StatusPhaseTerminating)
}

// warn records a failure as a Kubernetes Event next to the condition, so it
// shows up in `kubectl describe` and event-based alerting.
func warn(recorder events.EventRecorder, obj client.Object, reason, action, message string) {
	if recorder == nil {
		return
	}
	recorder.Eventf(obj, nil, corev1.EventTypeWarning, reason, action, "%s", message)
}

// MissingSecretError names an image pull secret the ProviderConfig refers to
// that does not exist on the platform cluster.
type MissingSecretError struct {
	Name, Namespace string
}

func (e *MissingSecretError) Error() string {
	return fmt.Sprintf("image pull secret %q not found in namespace %q on the platform cluster", e.Name, e.Namespace)
}

// syncPullSecrets copies the named secrets from sourceNamespace on the
// platform cluster into targetNamespace of the target cluster, and removes
// copies that are no longer referenced. It returns the references the
// workload must use.
func syncPullSecrets(ctx context.Context, platform client.Client, sourceNamespace string, target client.Client, targetNamespace string, refs []corev1.LocalObjectReference, labels map[string]string) ([]corev1.LocalObjectReference, error) {
	wanted := make([]corev1.LocalObjectReference, 0, len(refs))
	for _, ref := range refs {
		source := &corev1.Secret{}
		if err := platform.Get(ctx, client.ObjectKey{Namespace: sourceNamespace, Name: ref.Name}, source); err != nil {
			if apierrors.IsNotFound(err) {
				return nil, &MissingSecretError{Name: ref.Name, Namespace: sourceNamespace}
			}
			return nil, fmt.Errorf("reading image pull secret %q: %w", ref.Name, err)
		}
		copied := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: ref.Name, Namespace: targetNamespace}}
		if _, err := controllerutil.CreateOrUpdate(ctx, target, copied, func() error {
			copied.Labels = mergeLabels(copied.Labels, labels)
			copied.Type = source.Type
			copied.Data = source.Data
			return nil
		}); err != nil {
			return nil, fmt.Errorf("copying image pull secret %q: %w", ref.Name, err)
		}
		wanted = append(wanted, corev1.LocalObjectReference{Name: ref.Name})
	}
	var existing corev1.SecretList
	if err := target.List(ctx, &existing, client.InNamespace(targetNamespace), client.MatchingLabels(labels)); err != nil {
		return nil, fmt.Errorf("listing copied image pull secrets: %w", err)
	}
	for i := range existing.Items {
		s := &existing.Items[i]
		if !slices.ContainsFunc(wanted, func(r corev1.LocalObjectReference) bool { return r.Name == s.Name }) {
			if err := target.Delete(ctx, s); client.IgnoreNotFound(err) != nil {
				return nil, fmt.Errorf("removing stale image pull secret %q: %w", s.Name, err)
			}
		}
	}
	return wanted, nil
}

// blockingKinds returns the kinds of which objects still exist on the cluster.
// A kind whose CRD is not installed blocks nothing.
func blockingKinds(ctx context.Context, c client.Client, kinds []schema.GroupVersionKind) ([]string, error) {
	var blocking []string
	for _, gvk := range kinds {
		list := &metav1.PartialObjectMetadataList{}
		list.SetGroupVersionKind(gvk.GroupVersion().WithKind(gvk.Kind + "List"))
		if err := c.List(ctx, list, client.Limit(1)); err != nil {
			if meta.IsNoMatchError(err) || apierrors.IsNotFound(err) {
				continue
			}
			return nil, fmt.Errorf("listing %s: %w", gvk.Kind, err)
		}
		if len(list.Items) > 0 {
			blocking = append(blocking, gvk.Kind)
		}
	}
	return blocking, nil
}

// deleteAll deletes objs and returns those that still exist, so the caller
// can wait for them. Objects already marked for deletion count as gone when
// done says so (a namespace, for example, finishes on its own).
func deleteAll(ctx context.Context, c client.Client, objs ...client.Object) ([]client.Object, error) {
	var remaining []client.Object
	var errs []error
	for _, obj := range objs {
		if err := c.Get(ctx, client.ObjectKeyFromObject(obj), obj); err != nil {
			if apierrors.IsNotFound(err) || meta.IsNoMatchError(err) {
				continue
			}
			errs = append(errs, err)
			continue
		}
		if obj.GetDeletionTimestamp() == nil {
			if err := c.Delete(ctx, obj, client.PropagationPolicy(metav1.DeletePropagationBackground)); client.IgnoreNotFound(err) != nil {
				errs = append(errs, err)
				continue
			}
		}
		if _, isNamespace := obj.(*corev1.Namespace); isNamespace {
			continue
		}
		remaining = append(remaining, obj)
	}
	return remaining, errors.Join(errs...)
}

// describe names objects for a status message.
func describe(objs []client.Object) string {
	names := make([]string, 0, len(objs))
	for _, o := range objs {
		kind := reflect.TypeOf(o).Elem().Name()
		names = append(names, kind+" "+client.ObjectKeyFromObject(o).String())
	}
	return strings.Join(names, ", ")
}

func mergeLabels(dst, src map[string]string) map[string]string {
	if dst == nil {
		dst = map[string]string{}
	}
	for k, v := range src {
		dst[k] = v
	}
	return dst
}

func deploymentAvailable(d *appsv1.Deployment) bool {
	for _, c := range d.Status.Conditions {
		if c.Type == appsv1.DeploymentAvailable {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

func listOrNone(items []string) string {
	if len(items) == 0 {
		return "none"
	}
	return strings.Join(items, ", ")
}
