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

package local_test

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	helmv2 "github.com/fluxcd/helm-controller/api/v2"
	sourcev1 "github.com/fluxcd/source-controller/api/v1"
	apiconst "github.com/openmcp-project/openmcp-operator/api/constants"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	"example.com/acme/sp-velero/api/v1alpha1"
	"example.com/acme/sp-velero/internal/controller"
	"example.com/acme/sp-velero/test/local"
)

const (
	scheduleAllowed    = "1.0.0"
	scheduleDisallowed = "0.0.1"
	scheduleChart      = "oci://registry.example.com/charts/schedule"
	schedulePullSecret = "schedule-registry"
	// scheduleTarget is the cluster the workload runs in.
	scheduleTarget = local.Workload
)

// TestSchedule runs a Schedule through the provider's binary: Ready with the
// workload and the pull secret in the target cluster, the version
// allow-list and the annotations, then deletion with nothing left behind,
// not even the provider's access to the managed control plane.
func TestSchedule(t *testing.T) {
	p := provider(t)
	ctx := t.Context()
	onboarding, target := env.Client(local.Onboarding), env.Client(scheduleTarget)
	obj := &v1alpha1.Schedule{ObjectMeta: metav1.ObjectMeta{Name: "schedule", Namespace: "default"}}
	if err := env.AddMCP(ctx, obj.Name, obj.Namespace); err != nil {
		t.Fatal(err)
	}
	allowSchedule(t)

	obj.Annotations = map[string]string{apiconst.OperationAnnotation: apiconst.OperationAnnotationValueReconcile}
	obj.Spec.Version = scheduleAllowed
	if err := onboarding.Create(ctx, obj); err != nil {
		t.Fatal(err)
	}
	waitSchedule(t, p, obj, "Ready", "")
	if _, ok := obj.Annotations[apiconst.OperationAnnotation]; ok {
		t.Errorf("the reconcile annotation was not removed")
	}
	ns := scheduleNamespace(t, obj)
	scheduleRelease(t, obj, ns)
	if err := target.Get(ctx, client.ObjectKey{Namespace: ns, Name: schedulePullSecret}, &corev1.Secret{}); err != nil {
		t.Errorf("pull secret not copied next to the workload: %v", err)
	}

	// ignored: even a version outside the allow-list changes nothing, once
	// the provider has seen the change and skipped it
	skipped := strings.Count(p.Log(), ignoreSkipped)
	patchSchedule(t, obj, func() {
		obj.Annotations = map[string]string{apiconst.OperationAnnotation: apiconst.OperationAnnotationValueIgnore}
		obj.Spec.Version = scheduleDisallowed
	})
	err := env.WaitFor(ctx, p, "the provider to skip the ignored Schedule", 3*time.Minute, func(context.Context) (bool, string, error) {
		return strings.Count(p.Log(), ignoreSkipped) > skipped, "", nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := onboarding.Get(ctx, client.ObjectKeyFromObject(obj), obj); err != nil {
		t.Fatal(err)
	}
	if obj.Status.ObservedGeneration == obj.Generation || obj.Status.Phase != "Ready" {
		t.Errorf("an ignored Schedule was reconciled: %+v", obj.Status)
	}
	// no longer ignored: the version is refused
	patchSchedule(t, obj, func() { obj.Annotations = nil })
	waitSchedule(t, p, obj, "Progressing", controller.ReasonVersionNotAllowed)
	patchSchedule(t, obj, func() { obj.Spec.Version = scheduleAllowed })
	waitSchedule(t, p, obj, "Ready", "")
	if err := onboarding.Delete(ctx, obj); err != nil {
		t.Fatal(err)
	}
	err = env.WaitFor(ctx, p, "the Schedule to be deleted", 3*time.Minute, func(ctx context.Context) (bool, string, error) {
		err := onboarding.Get(ctx, client.ObjectKeyFromObject(obj), obj)
		if apierrors.IsNotFound(err) {
			return true, "", nil
		}
		return false, fmt.Sprintf("phase %s: %s", obj.Status.Phase, ready(obj.Status.Conditions).Message), err
	})
	if err != nil {
		t.Fatal(err)
	}
	var left corev1.Namespace
	if err := target.Get(ctx, client.ObjectKey{Name: ns}, &left); err == nil && left.DeletionTimestamp.IsZero() {
		t.Errorf("workload namespace %s is left in the %s cluster", ns, scheduleTarget)
	}
	if err := target.Get(ctx, client.ObjectKey{Name: ns + "-schedule"}, &rbacv1.ClusterRole{}); !apierrors.IsNotFound(err) {
		t.Errorf("the chart's ClusterRole is left in the %s cluster: %v", scheduleTarget, err)
	}
	noAccessLeft(t, p, obj.Name, obj.Namespace)
}

// allowSchedule lets the ProviderConfig offer scheduleAllowed with a pull
// secret, creating both on the platform cluster if needed; calling it again
// changes nothing.
func allowSchedule(t *testing.T) {
	t.Helper()
	ctx := t.Context()
	platform := env.Client(local.Platform)
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: schedulePullSecret, Namespace: env.ProviderNamespace()}}
	if _, err := controllerutil.CreateOrUpdate(ctx, platform, secret, func() error {
		secret.Type = corev1.SecretTypeDockerConfigJson
		secret.Data = map[string][]byte{corev1.DockerConfigJsonKey: []byte(`{"auths":{}}`)}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	pc := &v1alpha1.ProviderConfig{ObjectMeta: metav1.ObjectMeta{Name: providerName}}
	if _, err := controllerutil.CreateOrUpdate(ctx, platform, pc, func() error {
		pc.Spec.Versions = append(slices.DeleteFunc(pc.Spec.Versions, func(v v1alpha1.ChartVersion) bool { return v.Component == controller.ScheduleComponent }),
			v1alpha1.ChartVersion{Component: controller.ScheduleComponent, Version: scheduleAllowed, ChartURL: scheduleChart,
				Values: &apiextensionsv1.JSON{Raw: []byte(`{"imagePullSecrets":[{"name":"` + schedulePullSecret + `"}]}`)}})
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

func patchSchedule(t *testing.T, obj *v1alpha1.Schedule, mutate func()) {
	t.Helper()
	c := env.Client(local.Onboarding)
	if err := c.Get(t.Context(), client.ObjectKeyFromObject(obj), obj); err != nil {
		t.Fatal(err)
	}
	old := obj.DeepCopy()
	mutate()
	if err := c.Patch(t.Context(), obj, client.MergeFrom(old)); err != nil {
		t.Fatal(err)
	}
}

// waitSchedule waits until the provider has reconciled the current
// generation of obj into phase, with reason when it is not empty.
func waitSchedule(t *testing.T, p *local.Process, obj *v1alpha1.Schedule, phase, reason string) {
	t.Helper()
	what := fmt.Sprintf("Schedule %s/%s to be %s", obj.Namespace, obj.Name, phase)
	err := env.WaitFor(t.Context(), p, what, 3*time.Minute, func(ctx context.Context) (bool, string, error) {
		if err := env.Client(local.Onboarding).Get(ctx, client.ObjectKeyFromObject(obj), obj); err != nil {
			return false, "", err
		}
		done := obj.Status.ObservedGeneration == obj.Generation && obj.Status.Phase == phase &&
			(reason == "" || ready(obj.Status.Conditions).Reason == reason)
		return done, fmt.Sprintf("phase %q (%s): %s", obj.Status.Phase, ready(obj.Status.Conditions).Reason, ready(obj.Status.Conditions).Message), nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// scheduleNamespace is the workload's namespace, from the Schedule's status.
func scheduleNamespace(t *testing.T, obj *v1alpha1.Schedule) string {
	t.Helper()
	for _, r := range obj.Status.Resources {
		if r.Kind == "Namespace" && r.Cluster == scheduleTarget {
			return r.Name
		}
	}
	t.Fatalf("status lists no namespace in the %s cluster: %+v", scheduleTarget, obj.Status.Resources)
	return ""
}

// scheduleRelease checks what the provider asks Flux for on the platform
// cluster: the allowed version of the chart, installed into ns of the
// target cluster with the access openMCP granted the provider there; and
// what the chart installed there with that access, with the values the
// provider mapped.
func scheduleRelease(t *testing.T, obj *v1alpha1.Schedule, ns string) {
	t.Helper()
	ctx := t.Context()
	platform := env.Client(local.Platform)
	var release *helmv2.HelmRelease
	for _, r := range obj.Status.Resources {
		if r.Kind == helmv2.HelmReleaseKind && r.Cluster == local.Platform {
			release = &helmv2.HelmRelease{}
			if err := platform.Get(ctx, client.ObjectKey{Namespace: ptr.Deref(r.Namespace, ""), Name: r.Name}, release); err != nil {
				t.Fatal(err)
			}
		}
	}
	if release == nil {
		t.Fatalf("status lists no HelmRelease on the platform cluster: %+v", obj.Status.Resources)
	}
	if release.Spec.TargetNamespace != ns {
		t.Errorf("HelmRelease installs into %q, want the workload's namespace %q", release.Spec.TargetNamespace, ns)
	}
	repo := &sourcev1.OCIRepository{}
	if err := platform.Get(ctx, client.ObjectKey{Namespace: release.Namespace, Name: release.Spec.ChartRef.Name}, repo); err != nil {
		t.Fatal(err)
	}
	if repo.Spec.URL != scheduleChart || repo.Spec.Reference == nil || repo.Spec.Reference.Tag != scheduleAllowed {
		t.Errorf("OCIRepository pulls %s %+v, want %s at %s", repo.Spec.URL, repo.Spec.Reference, scheduleChart, scheduleAllowed)
	}
	access := &corev1.Secret{}
	if err := platform.Get(ctx, client.ObjectKey{Namespace: release.Namespace, Name: release.Spec.KubeConfig.SecretRef.Name}, access); err != nil {
		t.Fatalf("the HelmRelease's kubeconfig secret: %v", err)
	}
	cfg, err := clientcmd.RESTConfigFromKubeConfig(access.Data[release.Spec.KubeConfig.SecretRef.Key])
	if err != nil {
		t.Fatal(err)
	}
	if want := env.Config(scheduleTarget).Host; strings.TrimSuffix(cfg.Host, "/") != strings.TrimSuffix(want, "/") {
		t.Errorf("Flux would install into %s, want the %s cluster at %s", cfg.Host, scheduleTarget, want)
	}
	target := env.Client(scheduleTarget)
	d := &appsv1.Deployment{}
	if err := target.Get(ctx, client.ObjectKey{Namespace: ns, Name: release.GetReleaseName()}, d); err != nil {
		t.Fatalf("the chart's Deployment is not in the %s cluster: %v", scheduleTarget, err)
	}
	if refs := d.Spec.Template.Spec.ImagePullSecrets; len(refs) != 1 || refs[0].Name != schedulePullSecret {
		t.Errorf("the chart's pods pull with %+v, want the ProviderConfig's %s", refs, schedulePullSecret)
	}
	if err := target.Get(ctx, client.ObjectKey{Name: ns + "-" + release.GetReleaseName()}, &rbacv1.ClusterRole{}); err != nil {
		t.Errorf("the chart's ClusterRole is not in the %s cluster: %v", scheduleTarget, err)
	}
}

// TestScheduleBesideVelero runs a Schedule and a Velero for one
// managed control plane through the provider's binary: both become Ready
// and stay so when reconciled again, and deleting the Schedule leaves the
// Velero's objects and its access to the managed control plane alone.
func TestScheduleBesideVelero(t *testing.T) {
	p := provider(t)
	ctx := t.Context()
	onboarding := env.Client(local.Onboarding)
	const name, namespace = "shared", "default"
	if err := env.AddMCP(ctx, name, namespace); err != nil {
		t.Fatal(err)
	}
	allowSchedule(t)
	allowVelero(t)
	partner := &v1alpha1.Velero{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: namespace}}
	partner.Spec.Version = veleroAllowed
	if err := onboarding.Create(ctx, partner); err != nil {
		t.Fatal(err)
	}
	obj := &v1alpha1.Schedule{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: namespace}}
	obj.Spec.Version = scheduleAllowed
	if err := onboarding.Create(ctx, obj); err != nil {
		t.Fatal(err)
	}
	waitVelero(t, p, partner, "Ready", "")
	waitSchedule(t, p, obj, "Ready", "")
	for range 2 {
		reconcileAgain(t, p, partner)
		reconcileAgain(t, p, obj)
		waitVelero(t, p, partner, "Ready", "")
		waitSchedule(t, p, obj, "Ready", "")
	}
	partnerTarget := env.Client(veleroTarget)
	before := contents(t, partnerTarget, veleroNamespace(t, partner))

	if err := onboarding.Delete(ctx, obj); err != nil {
		t.Fatal(err)
	}
	err := env.WaitFor(ctx, p, "the Schedule to be deleted", 3*time.Minute, func(ctx context.Context) (bool, string, error) {
		err := onboarding.Get(ctx, client.ObjectKeyFromObject(obj), obj)
		return apierrors.IsNotFound(err), "phase " + obj.Status.Phase, client.IgnoreNotFound(err)
	})
	if err != nil {
		t.Fatal(err)
	}
	reconcileAgain(t, p, partner)
	waitVelero(t, p, partner, "Ready", "")
	if after := contents(t, partnerTarget, veleroNamespace(t, partner)); !maps.Equal(before, after) {
		t.Errorf("deleting the Schedule changed the Velero's objects:\nbefore %v\nafter  %v", before, after)
	}

	if err := onboarding.Delete(ctx, partner); err != nil {
		t.Fatal(err)
	}
	noAccessLeft(t, p, name, namespace)
}
