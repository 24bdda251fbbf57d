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
	"slices"
	"strings"
	"testing"
	"time"

	apiconst "github.com/openmcp-project/openmcp-operator/api/constants"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	"example.com/acme/sp-velero/api/v1alpha1"
	"example.com/acme/sp-velero/internal/controller"
	"example.com/acme/sp-velero/test/local"
)

const (
	veleroAllowed    = "1.0.0"
	veleroDisallowed = "0.0.1"
	veleroImage      = "registry.example.com/velero"
	veleroPullSecret = "velero-registry"
	// veleroTarget is the cluster the workload runs in.
	veleroTarget = local.Workload
)

// TestVelero runs a Velero through the provider's binary: Ready with the
// workload and the pull secret in the target cluster, the version
// allow-list and the annotations, then deletion with nothing left behind,
// not even the provider's access to the managed control plane.
func TestVelero(t *testing.T) {
	p := provider(t)
	ctx := t.Context()
	onboarding, target := env.Client(local.Onboarding), env.Client(veleroTarget)
	obj := &v1alpha1.Velero{ObjectMeta: metav1.ObjectMeta{Name: "velero", Namespace: "default"}}
	if err := env.AddMCP(ctx, obj.Name, obj.Namespace); err != nil {
		t.Fatal(err)
	}
	allowVelero(t)

	obj.Annotations = map[string]string{apiconst.OperationAnnotation: apiconst.OperationAnnotationValueReconcile}
	obj.Spec.Version = veleroAllowed
	if err := onboarding.Create(ctx, obj); err != nil {
		t.Fatal(err)
	}
	waitVelero(t, p, obj, "Ready", "")
	if _, ok := obj.Annotations[apiconst.OperationAnnotation]; ok {
		t.Errorf("the reconcile annotation was not removed")
	}
	ns := veleroNamespace(t, obj)
	d := &appsv1.Deployment{}
	if err := target.Get(ctx, client.ObjectKey{Namespace: ns, Name: "velero"}, d); err != nil {
		t.Fatalf("no workload in the %s cluster: %v", veleroTarget, err)
	}
	if got := d.Spec.Template.Spec.Containers[0].Image; got != veleroImage+":"+veleroAllowed {
		t.Errorf("workload image %q, want %s:%s", got, veleroImage, veleroAllowed)
	}
	if err := target.Get(ctx, client.ObjectKey{Namespace: ns, Name: veleroPullSecret}, &corev1.Secret{}); err != nil {
		t.Errorf("pull secret not copied next to the workload: %v", err)
	}

	// ignored: even a version outside the allow-list changes nothing, once
	// the provider has seen the change and skipped it
	skipped := strings.Count(p.Log(), ignoreSkipped)
	patchVelero(t, obj, func() {
		obj.Annotations = map[string]string{apiconst.OperationAnnotation: apiconst.OperationAnnotationValueIgnore}
		obj.Spec.Version = veleroDisallowed
	})
	err := env.WaitFor(ctx, p, "the provider to skip the ignored Velero", 3*time.Minute, func(context.Context) (bool, string, error) {
		return strings.Count(p.Log(), ignoreSkipped) > skipped, "", nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := onboarding.Get(ctx, client.ObjectKeyFromObject(obj), obj); err != nil {
		t.Fatal(err)
	}
	if obj.Status.ObservedGeneration == obj.Generation || obj.Status.Phase != "Ready" {
		t.Errorf("an ignored Velero was reconciled: %+v", obj.Status)
	}
	// no longer ignored: the version is refused
	patchVelero(t, obj, func() { obj.Annotations = nil })
	waitVelero(t, p, obj, "Progressing", controller.ReasonVersionNotAllowed)
	patchVelero(t, obj, func() { obj.Spec.Version = veleroAllowed })
	waitVelero(t, p, obj, "Ready", "")
	if err := onboarding.Delete(ctx, obj); err != nil {
		t.Fatal(err)
	}
	err = env.WaitFor(ctx, p, "the Velero to be deleted", 3*time.Minute, func(ctx context.Context) (bool, string, error) {
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
		t.Errorf("workload namespace %s is left in the %s cluster", ns, veleroTarget)
	}
	noAccessLeft(t, p, obj.Name, obj.Namespace)
}

// allowVelero lets the ProviderConfig offer veleroAllowed with a pull
// secret, creating both on the platform cluster if needed; calling it again
// changes nothing.
func allowVelero(t *testing.T) {
	t.Helper()
	ctx := t.Context()
	platform := env.Client(local.Platform)
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: veleroPullSecret, Namespace: env.ProviderNamespace()}}
	if _, err := controllerutil.CreateOrUpdate(ctx, platform, secret, func() error {
		secret.Type = corev1.SecretTypeDockerConfigJson
		secret.Data = map[string][]byte{corev1.DockerConfigJsonKey: []byte(`{"auths":{}}`)}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	pc := &v1alpha1.ProviderConfig{ObjectMeta: metav1.ObjectMeta{Name: providerName}}
	if _, err := controllerutil.CreateOrUpdate(ctx, platform, pc, func() error {
		pc.Spec.AvailableImages = append(slices.DeleteFunc(pc.Spec.AvailableImages, func(i v1alpha1.ImageVersions) bool { return i.Name == controller.VeleroComponent }),
			v1alpha1.ImageVersions{Name: controller.VeleroComponent, Versions: []string{veleroAllowed}, Image: veleroImage})
		pull := corev1.LocalObjectReference{Name: veleroPullSecret}
		if !slices.Contains(pc.Spec.ImagePullSecrets, pull) {
			pc.Spec.ImagePullSecrets = append(pc.Spec.ImagePullSecrets, pull)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

func patchVelero(t *testing.T, obj *v1alpha1.Velero, mutate func()) {
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

// waitVelero waits until the provider has reconciled the current
// generation of obj into phase, with reason when it is not empty.
func waitVelero(t *testing.T, p *local.Process, obj *v1alpha1.Velero, phase, reason string) {
	t.Helper()
	what := fmt.Sprintf("Velero %s/%s to be %s", obj.Namespace, obj.Name, phase)
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

// veleroNamespace is the workload's namespace, from the Velero's status.
func veleroNamespace(t *testing.T, obj *v1alpha1.Velero) string {
	t.Helper()
	for _, r := range obj.Status.Resources {
		if r.Kind == "Namespace" && r.Cluster == veleroTarget {
			return r.Name
		}
	}
	t.Fatalf("status lists no namespace in the %s cluster: %+v", veleroTarget, obj.Status.Resources)
	return ""
}
