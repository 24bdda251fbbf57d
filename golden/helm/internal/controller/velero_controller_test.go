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

package controller_test

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	helmv2 "github.com/fluxcd/helm-controller/api/v2"
	sourcev1 "github.com/fluxcd/source-controller/api/v1"
	"github.com/openmcp-project/controller-utils/pkg/clusters"
	"github.com/openmcp-project/opencontrolplane-runtime/pkg/serviceprovider"
	apiconst "github.com/openmcp-project/openmcp-operator/api/constants"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	v1alpha1 "example.com/acme/sp-velero/api/v1alpha1"
	"example.com/acme/sp-velero/internal/controller"
	"example.com/acme/sp-velero/internal/managed"
	"example.com/acme/sp-velero/internal/provider"
	"example.com/acme/sp-velero/internal/wiring"
)

const (
	veleroAllowed    = "1.0.0"
	veleroDisallowed = "9.9.9"
	veleroPullSecret = "regcred"
	veleroSecretData = `{"auths":{"registry.example.com":{"auth":"` + pullSecretAuth + `"}}}`
)

// veleroEnv is the Velero reconciler of one test provider.
type veleroEnv struct {
	*testProvider
	reconciler reconcileVelero
}

type reconcileVelero interface {
	Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error)
}

// newVeleroEnv wires the reconciler of a new test provider exactly as
// main.go does, except that cluster access is faked and the onboarding
// client can be wrapped.
func newVeleroEnv(t *testing.T, wrapOnboarding func(client.WithWatch) client.WithWatch) *veleroEnv {
	t.Helper()
	return newVeleroEnvFor(newTestProvider(t), wrapOnboarding)
}

// newVeleroEnvFor wires the Velero reconciler of p, which may run other
// kinds' reconcilers for the same managed control plane too.
func newVeleroEnvFor(p *testProvider, wrapOnboarding func(client.WithWatch) client.WithWatch) *veleroEnv {
	t := p.t
	t.Helper()
	e := &veleroEnv{testProvider: p}
	dropMCP(t, e.mc, e.owner())
	platform := newCluster(t, "platform", wiring.PlatformScheme())
	onboarding := newCluster(t, "onboarding", wiring.OnboardingScheme())
	if wrapOnboarding != nil {
		base, err := client.NewWithWatch(apiServer.Config(t), client.Options{Scheme: wiring.OnboardingScheme()})
		if err != nil {
			t.Fatal(err)
		}
		onboarding = clusters.NewTestClusterFromClient("onboarding", wrapOnboarding(base))
	}
	r := wiring.NewVeleroV1alpha1Reconciler(provider.Deps{
		ProviderName:      e.providerName,
		ProviderNamespace: e.providerNS,
		PlatformCluster:   platform,
		OnboardingCluster: onboarding,
		Recorder:          newRecorder(t, wiring.OnboardingScheme()),
	}, &fakeAccess{mcp: e.mcp.Cluster, workload: e.workload.Cluster})
	if err := r.SetupWithManager(newManager(t, wiring.OnboardingScheme()), e.providerName); err != nil {
		t.Fatal(err)
	}
	e.reconciler = r
	// The domain kinds are package state of the controller; restore them.
	saved := controller.VeleroDomainKinds
	t.Cleanup(func() { controller.VeleroDomainKinds = saved })
	return e
}

// owner is what the provider records as the owner of what it manages for
// the test's Velero.
func (e *veleroEnv) owner() managed.Owner {
	return managed.Owner{Provider: e.providerName, GroupKind: v1alpha1.GroupVersion.WithKind("Velero").GroupKind(), Namespace: e.tenantNS, Name: "mcp"}
}

// providerConfig offers veleroAllowed in the provider's ProviderConfig,
// with pullSecrets, creating it if needed; other kinds' entries stay.
func (e *veleroEnv) providerConfig(pullSecrets ...string) *v1alpha1.ProviderConfig {
	pc := &v1alpha1.ProviderConfig{ObjectMeta: metav1.ObjectMeta{Name: e.providerName}}
	_, err := controllerutil.CreateOrUpdate(run(e.t), e.c, pc, func() error {
		refs := make([]corev1.LocalObjectReference, 0, len(pullSecrets))
		for _, s := range pullSecrets {
			refs = append(refs, corev1.LocalObjectReference{Name: s})
		}
		values, err := json.Marshal(map[string]any{"imagePullSecrets": refs})
		if err != nil {
			return err
		}
		pc.Spec.Versions = append(slices.DeleteFunc(pc.Spec.Versions, func(v v1alpha1.ChartVersion) bool { return v.Component == controller.VeleroComponent }),
			v1alpha1.ChartVersion{Component: controller.VeleroComponent, Version: veleroAllowed, ChartURL: veleroChart, Values: &apiextensionsv1.JSON{Raw: values}})
		return nil
	})
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { _ = e.c.Delete(context.Background(), pc) })
	return pc
}

func (e *veleroEnv) pullSecret(name string) {
	s := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: e.providerNS},
		Type:       corev1.SecretTypeDockerConfigJson,
		Data:       map[string][]byte{corev1.DockerConfigJsonKey: []byte(veleroSecretData)},
	}
	if err := e.c.Create(run(e.t), s); err != nil && !apierrors.IsAlreadyExists(err) {
		e.t.Fatal(err)
	}
}

func (e *veleroEnv) create(annotations map[string]string) {
	obj := &v1alpha1.Velero{
		ObjectMeta: metav1.ObjectMeta{Name: "mcp", Namespace: e.tenantNS, Annotations: annotations},
		Spec:       v1alpha1.VeleroSpec{Version: veleroAllowed},
	}
	if err := e.c.Create(run(e.t), obj); err != nil {
		e.t.Fatal(err)
	}
}

func (e *veleroEnv) reconcile() (ctrl.Result, error) {
	return e.reconciler.Reconcile(run(e.t), ctrl.Request{NamespacedName: types.NamespacedName{Namespace: e.tenantNS, Name: "mcp"}})
}

func (e *veleroEnv) mustReconcile() ctrl.Result {
	e.t.Helper()
	res, err := e.reconcile()
	if err != nil {
		e.t.Fatalf("reconcile: %v", err)
	}
	return res
}

func (e *veleroEnv) get() *v1alpha1.Velero {
	e.t.Helper()
	obj := &v1alpha1.Velero{}
	if err := e.c.Get(run(e.t), types.NamespacedName{Namespace: e.tenantNS, Name: "mcp"}, obj); err != nil {
		e.t.Fatal(err)
	}
	return obj
}

// patch changes obj on the platform or onboarding cluster.
func (e *veleroEnv) patch(obj client.Object, mutate func()) {
	e.t.Helper()
	e.patchOn(e.c, obj, mutate)
}

func (e *veleroEnv) patchOn(c client.Client, obj client.Object, mutate func()) {
	e.t.Helper()
	base := obj.DeepCopyObject().(client.Object)
	mutate()
	if err := c.Patch(run(e.t), obj, client.MergeFrom(base)); err != nil {
		e.t.Fatal(err)
	}
}

// ready returns the Ready condition, failing the test when there is none.
func veleroReady(t *testing.T, obj *v1alpha1.Velero) metav1.Condition {
	t.Helper()
	c := meta.FindStatusCondition(obj.Status.Conditions, serviceprovider.ServiceProviderConditionReady)
	if c == nil {
		t.Fatalf("no Ready condition; status: %+v", obj.Status)
	}
	return *c
}

func expectVeleroReason(t *testing.T, obj *v1alpha1.Velero, phase, reason string) metav1.Condition {
	t.Helper()
	c := veleroReady(t, obj)
	if obj.Status.Phase != phase || c.Reason != reason {
		t.Fatalf("phase %q reason %q (%s), want phase %q reason %q", obj.Status.Phase, c.Reason, c.Message, phase, reason)
	}
	return c
}

// managedCount counts everything the provider created for any object: in
// the workload's namespace ns, and for Flux next to the access secret.
func (e *veleroEnv) managedCount(ns string) int {
	e.t.Helper()
	var secrets corev1.SecretList
	var releases helmv2.HelmReleaseList
	var sources sourcev1.OCIRepositoryList
	sel := client.MatchingLabels{managed.ManagedByLabel: e.providerName}
	if err := e.tc.List(run(e.t), &secrets, client.InNamespace(ns), sel); err != nil {
		e.t.Fatal(err)
	}
	if err := e.c.List(run(e.t), &releases, client.InNamespace(e.tenantNS), sel); err != nil {
		e.t.Fatal(err)
	}
	if err := e.c.List(run(e.t), &sources, client.InNamespace(e.tenantNS), sel); err != nil {
		e.t.Fatal(err)
	}
	return len(secrets.Items) + len(releases.Items) + len(sources.Items)
}

func veleroWorkloadNamespace(obj *v1alpha1.Velero) string {
	if r := veleroResource(obj, "Namespace"); r != nil {
		return r.Name
	}
	return ""
}

// veleroResource finds the first object of kind in the status.
func veleroResource(obj *v1alpha1.Velero, kind string) *v1alpha1.ManagedResource {
	for i, r := range obj.Status.Resources {
		if r.Kind == kind {
			return &obj.Status.Resources[i]
		}
	}
	return nil
}

// deployment is the workload of obj as the test chart renders it with the
// values of obj's HelmRelease.
func (e *veleroEnv) deployment(obj *v1alpha1.Velero) *appsv1.Deployment {
	e.t.Helper()
	hr, _ := e.release(obj)
	return chartDeployment(e.t, hr)
}

// version is the entry of pc's versions for the test's Velero.
func (e *veleroEnv) version(pc *v1alpha1.ProviderConfig) *v1alpha1.ChartVersion {
	e.t.Helper()
	for i, v := range pc.Spec.Versions {
		if v.Component == controller.VeleroComponent {
			return &pc.Spec.Versions[i]
		}
	}
	e.t.Fatalf("ProviderConfig %s offers no version for %s", pc.Name, controller.VeleroComponent)
	return nil
}

// remove deletes the Velero and reconciles until it is gone.
func (e *veleroEnv) remove() {
	e.t.Helper()
	if err := e.c.Delete(run(e.t), e.get()); err != nil {
		e.t.Fatal(err)
	}
	eventually(e.t, "the Velero to be deleted", func() (bool, error) {
		if _, err := e.reconcile(); err != nil {
			return false, err
		}
		err := e.c.Get(run(e.t), types.NamespacedName{Namespace: e.tenantNS, Name: "mcp"}, &v1alpha1.Velero{})
		return apierrors.IsNotFound(err), client.IgnoreNotFound(err)
	})
}

// TestVeleroLifecycle drives one Velero through its whole life on a real
// API server: create, ready, annotations, version allow-list, pull secrets,
// blocked and completed deletion.
func TestVeleroLifecycle(t *testing.T) {
	e := newVeleroEnv(t, nil)
	domain := installTestDomainCRD(t, e.mc)
	controller.VeleroDomainKinds = append(controller.VeleroDomainKinds, domain)
	e.pullSecret(veleroPullSecret)
	pc := e.providerConfig(veleroPullSecret)
	e.create(map[string]string{apiconst.OperationAnnotation: apiconst.OperationAnnotationValueReconcile})

	// create → progressing until the workload is available
	if res := e.mustReconcile(); res.RequeueAfter == 0 {
		t.Errorf("no requeue while the workload is not available")
	}
	obj := e.get()
	expectVeleroReason(t, obj, serviceprovider.StatusPhaseProgressing, controller.ReasonWorkloadNotReady)
	if !slices.Contains(obj.Finalizers, obj.Finalizer()) {
		t.Errorf("finalizer %s missing: %v", obj.Finalizer(), obj.Finalizers)
	}
	if _, ok := obj.Annotations[apiconst.OperationAnnotation]; ok {
		t.Errorf("reconcile annotation was not removed after the reconcile")
	}
	ns := veleroWorkloadNamespace(obj)
	if ns == "" {
		t.Fatalf("status lists no namespace: %+v", obj.Status.Resources)
	}

	// the pull secret is copied next to the workload and used by it
	copied := &corev1.Secret{}
	if err := e.tc.Get(run(t), types.NamespacedName{Namespace: ns, Name: veleroPullSecret}, copied); err != nil {
		t.Fatalf("pull secret not copied: %v", err)
	}
	if string(copied.Data[corev1.DockerConfigJsonKey]) != veleroSecretData || copied.Type != corev1.SecretTypeDockerConfigJson {
		t.Errorf("copied pull secret differs from the source: %+v", copied)
	}
	hr, repo := e.release(obj)
	if repo.Spec.Reference == nil || repo.Spec.Reference.Tag != veleroAllowed {
		t.Errorf("chart version %+v, want the allowed version", repo.Spec.Reference)
	}
	if pulls := chartDeployment(t, hr).Spec.Template.Spec.ImagePullSecrets; len(pulls) != 1 || pulls[0].Name != veleroPullSecret {
		t.Errorf("the chart's pods do not pull with the pull secret: %+v", pulls)
	}
	if r := veleroResource(obj, helmv2.HelmReleaseKind); r == nil || r.Cluster != "platform" {
		t.Errorf("status does not list the HelmRelease with its cluster: %+v", obj.Status.Resources)
	}
	if hr.Spec.KubeConfig.SecretRef.Name != veleroAccessSecret || e.mcp.createdCount("secrets") == 0 {
		t.Errorf("the release must be installed into the managed control plane, next to the copied pull secret")
	}

	// Flux installs the chart → Ready with observedGeneration
	e.fluxInstalled(obj)
	e.mustReconcile()
	obj = e.get()
	if c := expectVeleroReason(t, obj, serviceprovider.StatusPhaseReady, "ReconcileSuccess"); c.Status != metav1.ConditionTrue {
		t.Errorf("Ready condition is %s", c.Status)
	}
	if obj.Status.ObservedGeneration != obj.Generation {
		t.Errorf("observedGeneration %d, want %d", obj.Status.ObservedGeneration, obj.Generation)
	}

	// ignore on the object: nothing changes, not even for a disallowed version
	e.patch(obj, func() {
		obj.Annotations = map[string]string{apiconst.OperationAnnotation: apiconst.OperationAnnotationValueIgnore}
		obj.Spec.Version = veleroDisallowed
	})
	e.mustReconcile()
	if got := e.get(); got.Status.ObservedGeneration == got.Generation || got.Status.Phase != serviceprovider.StatusPhaseReady || got.Annotations[apiconst.OperationAnnotation] != apiconst.OperationAnnotationValueIgnore {
		t.Errorf("ignored object was changed: %+v", got.Status)
	}

	// ignore on the ProviderConfig: nothing changes either
	e.patch(pc, func() {
		pc.Annotations = map[string]string{apiconst.OperationAnnotation: apiconst.OperationAnnotationValueIgnore}
	})
	obj = e.get()
	e.patch(obj, func() { obj.Annotations = nil })
	e.mustReconcile()
	if got := e.get(); got.Status.ObservedGeneration == got.Generation || got.Status.Phase != serviceprovider.StatusPhaseReady {
		t.Errorf("object changed while its ProviderConfig is ignored: %+v", got.Status)
	}
	e.patch(pc, func() { pc.Annotations = nil })

	// a version outside the allow-list is refused and no workload touched
	e.mustReconcile()
	obj = e.get()
	c := expectVeleroReason(t, obj, serviceprovider.StatusPhaseProgressing, controller.ReasonVersionNotAllowed)
	if !strings.Contains(c.Message, veleroDisallowed) || !strings.Contains(c.Message, veleroAllowed) {
		t.Errorf("message does not name the version and the allowed ones: %q", c.Message)
	}
	if err := e.c.Get(run(t), client.ObjectKeyFromObject(repo), repo); err != nil || repo.Spec.Reference.Tag != veleroAllowed {
		t.Errorf("chart was touched for a disallowed version: %v", err)
	}
	warningEvent(t, e.c, e.tenantNS, controller.ReasonVersionNotAllowed)
	noSecrets(t, obj.Status.Conditions)

	// back to an allowed version
	e.patch(obj, func() { obj.Spec.Version = veleroAllowed })
	e.mustReconcile()
	expectVeleroReason(t, e.get(), serviceprovider.StatusPhaseReady, "ReconcileSuccess")

	// deletion waits while users still have domain objects
	widget := &unstructured.Unstructured{}
	widget.SetGroupVersionKind(domain)
	widget.SetNamespace(metav1.NamespaceDefault)
	widget.SetName("users-data")
	if err := e.mc.Create(run(t), widget); err != nil {
		t.Fatal(err)
	}
	if err := e.c.Delete(run(t), e.get()); err != nil {
		t.Fatal(err)
	}
	if res := e.mustReconcile(); res.RequeueAfter == 0 {
		t.Errorf("blocked deletion is not requeued")
	}
	obj = e.get()
	c = expectVeleroReason(t, obj, serviceprovider.StatusPhaseTerminating, controller.ReasonDeletionBlocked)
	if !strings.Contains(c.Message, "Widget") {
		t.Errorf("message does not name the blocking kind: %q", c.Message)
	}
	warningEvent(t, e.c, e.tenantNS, controller.ReasonDeletionBlocked)
	if e.managedCount(ns) == 0 {
		t.Errorf("resources were removed while deletion is blocked")
	}

	// once the user's objects are gone, everything is removed
	if err := e.mc.Delete(run(t), widget); err != nil {
		t.Fatal(err)
	}
	reconcileUntilDone(t, e.reconcile)
	gone := &v1alpha1.Velero{}
	if err := e.c.Get(run(t), types.NamespacedName{Namespace: e.tenantNS, Name: "mcp"}, gone); !apierrors.IsNotFound(err) {
		t.Errorf("object still exists after deletion (finalizer not released): %v %+v", err, gone.Status)
	}
	if n := e.managedCount(ns); n != 0 {
		t.Errorf("%d managed objects left behind in %s", n, ns)
	}
}

// TestVeleroProviderConfigMissing: a clear condition, and recovery once
// the ProviderConfig appears.
func TestVeleroProviderConfigMissing(t *testing.T) {
	e := newVeleroEnv(t, nil)
	e.create(nil)
	e.mustReconcile()
	c := veleroReady(t, e.get())
	if c.Status != metav1.ConditionFalse || !strings.Contains(c.Message, "ProviderConfig") {
		t.Fatalf("condition does not explain the missing ProviderConfig: %+v", c)
	}
	e.providerConfig()
	e.mustReconcile()
	expectVeleroReason(t, e.get(), serviceprovider.StatusPhaseProgressing, controller.ReasonWorkloadNotReady)
}

// TestVeleroPullSecretMissing: the condition names the secret, the
// provider does not crash, and it recovers once the secret exists.
func TestVeleroPullSecretMissing(t *testing.T) {
	e := newVeleroEnv(t, nil)
	e.providerConfig("missing-secret")
	e.create(nil)
	res := e.mustReconcile()
	c := expectVeleroReason(t, e.get(), serviceprovider.StatusPhaseProgressing, controller.ReasonPullSecretMissing)
	if !strings.Contains(c.Message, `"missing-secret"`) || res.RequeueAfter == 0 {
		t.Fatalf("condition does not name the secret or no retry: %q %v", c.Message, res)
	}
	warningEvent(t, e.c, e.tenantNS, controller.ReasonPullSecretMissing)
	e.pullSecret("missing-secret")
	e.mustReconcile()
	expectVeleroReason(t, e.get(), serviceprovider.StatusPhaseProgressing, controller.ReasonWorkloadNotReady)
}

// TestVeleroConflictRetried: a conflict from the API server fails the
// reconcile (so it is retried) without losing status, and the retry succeeds.
func TestVeleroConflictRetried(t *testing.T) {
	var conflicts atomic.Int32
	e := newVeleroEnv(t, func(c client.WithWatch) client.WithWatch {
		return interceptor.NewClient(c, interceptor.Funcs{
			Update: func(ctx context.Context, c client.WithWatch, obj client.Object, opts ...client.UpdateOption) error {
				if conflicts.Add(1) == 1 {
					return apierrors.NewConflict(schema.GroupResource{Group: wiring.APIGroup, Resource: "veleroes"}, obj.GetName(), errors.New("the object has been modified"))
				}
				return c.Update(ctx, obj, opts...)
			},
		})
	})
	e.providerConfig()
	e.create(nil)
	if _, err := e.reconcile(); !apierrors.IsConflict(err) {
		t.Fatalf("reconcile error = %v, want the conflict so it is retried", err)
	}
	if c := veleroReady(t, e.get()); c.Status != metav1.ConditionFalse {
		t.Fatalf("failed attempt left no status: %+v", c)
	}
	e.mustReconcile()
	obj := e.get()
	expectVeleroReason(t, obj, serviceprovider.StatusPhaseProgressing, controller.ReasonWorkloadNotReady)
	if obj.Status.ObservedGeneration != obj.Generation || len(obj.Status.Resources) == 0 {
		t.Fatalf("status lost after retry: %+v", obj.Status)
	}
}

// TestVeleroPullSecretRemoved: a pull secret dropped from the
// ProviderConfig is removed from the target cluster and no longer used.
func TestVeleroPullSecretRemoved(t *testing.T) {
	e := newVeleroEnv(t, nil)
	e.pullSecret(veleroPullSecret)
	pc := e.providerConfig(veleroPullSecret)
	e.create(nil)
	e.mustReconcile()
	ns := veleroWorkloadNamespace(e.get())
	copied := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: veleroPullSecret, Namespace: ns}}
	if err := e.tc.Get(run(t), client.ObjectKeyFromObject(copied), copied); err != nil {
		t.Fatalf("pull secret not copied: %v", err)
	}

	if refs := e.deployment(e.get()).Spec.Template.Spec.ImagePullSecrets; len(refs) != 1 || refs[0].Name != veleroPullSecret {
		t.Errorf("the chart's pods pull with %+v, want %s", refs, veleroPullSecret)
	}
	e.patch(pc, func() { e.version(pc).Values = nil })
	e.mustReconcile()
	if err := e.tc.Get(run(t), client.ObjectKeyFromObject(copied), copied); !apierrors.IsNotFound(err) {
		t.Errorf("copy of the dropped pull secret is still there: %v", err)
	}
	if refs := e.deployment(e.get()).Spec.Template.Spec.ImagePullSecrets; len(refs) != 0 {
		t.Errorf("workload still uses dropped pull secrets: %+v", refs)
	}
}

// TestVeleroCustomCA: the CA bundle the ProviderConfig selects reaches the
// workload, which trusts it; a change rolls out, a missing or invalid bundle
// is a clear condition and Event and recovers, and a bundle no longer
// selected is removed.
func TestVeleroCustomCA(t *testing.T) {
	e := newVeleroEnv(t, nil)
	pc := e.providerConfig()
	e.patch(pc, func() {
		pc.Spec.CABundleRef = &corev1.ConfigMapKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "trust"}, Key: "bundle.pem"}
		// the operator's own volume and annotation stay, before the bundle's
		e.version(pc).Values = &apiextensionsv1.JSON{Raw: []byte(`{"volumes": [{"name": "own", "emptyDir": {}}], "podAnnotations": {"team": "a"}}`)}
	})
	e.create(nil)
	watcher := controller.NewVeleroReconciler(provider.Deps{ProviderNamespace: e.providerNS})
	var _ serviceprovider.ConfigMapWatcher[*v1alpha1.ProviderConfig] = watcher

	// the ConfigMap is missing
	res := e.mustReconcile()
	c := expectVeleroReason(t, e.get(), serviceprovider.StatusPhaseProgressing, controller.ReasonCABundleMissing)
	if !strings.Contains(c.Message, `"trust"`) || res.RequeueAfter == 0 {
		t.Errorf("condition does not name the ConfigMap or no retry: %q %v", c.Message, res)
	}
	warningEvent(t, e.c, e.tenantNS, controller.ReasonCABundleMissing)

	// the key is missing
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "trust", Namespace: e.providerNS}, Data: map[string]string{"other": "x"}}
	if err := e.c.Create(run(t), cm); err != nil {
		t.Fatal(err)
	}
	if !watcher.IsReferencedConfigMap(run(t), cm, pc) {
		t.Errorf("a change to the CA bundle ConfigMap does not trigger reconciles")
	}
	if other := (&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "other", Namespace: e.providerNS}}); watcher.IsReferencedConfigMap(run(t), other, pc) {
		t.Errorf("an unrelated ConfigMap triggers reconciles")
	}
	e.mustReconcile()
	c = expectVeleroReason(t, e.get(), serviceprovider.StatusPhaseProgressing, controller.ReasonCABundleMissing)
	if !strings.Contains(c.Message, `"bundle.pem"`) {
		t.Errorf("condition does not name the missing key: %q", c.Message)
	}

	// the bundle is not PEM
	e.patch(cm, func() { cm.Data = map[string]string{"bundle.pem": "not a certificate"} })
	e.mustReconcile()
	expectVeleroReason(t, e.get(), serviceprovider.StatusPhaseProgressing, controller.ReasonCABundleInvalid)
	warningEvent(t, e.c, e.tenantNS, controller.ReasonCABundleInvalid)

	// a valid bundle is copied, mounted and trusted
	first := newTestCA(t)
	e.patch(cm, func() { cm.Data = map[string]string{"bundle.pem": first} })
	e.mustReconcile()
	obj := e.get()
	expectVeleroReason(t, obj, serviceprovider.StatusPhaseProgressing, controller.ReasonWorkloadNotReady)
	ns := veleroWorkloadNamespace(obj)
	copied := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: controller.CABundleConfigMap, Namespace: ns}}
	if err := e.tc.Get(run(t), client.ObjectKeyFromObject(copied), copied); err != nil || copied.Data[controller.CABundleKey] != first {
		t.Fatalf("CA bundle not copied next to the workload: %v %+v", err, copied.Data)
	}
	if r := veleroResource(obj, "ConfigMap"); r == nil || r.Cluster != "mcp" {
		t.Errorf("status does not list the CA bundle with its cluster: %+v", obj.Status.Resources)
	}
	pod := e.deployment(obj).Spec.Template
	expectChartTrusts(t, pod)
	if len(pod.Spec.Volumes) < 2 || pod.Spec.Volumes[0].Name != "own" || pod.Annotations["team"] != "a" {
		t.Errorf("the operator's values were not kept first: %+v %v", pod.Spec.Volumes, pod.Annotations)
	}
	hash := pod.Annotations[controller.CABundleHashAnnotation]

	// a change to the bundle reaches the copy and restarts the workload
	second := newTestCA(t)
	e.patch(cm, func() { cm.Data = map[string]string{"bundle.pem": second} })
	e.mustReconcile()
	if err := e.tc.Get(run(t), client.ObjectKeyFromObject(copied), copied); err != nil || copied.Data[controller.CABundleKey] != second {
		t.Errorf("changed CA bundle not copied: %v", err)
	}
	if got := e.deployment(obj).Spec.Template.Annotations[controller.CABundleHashAnnotation]; got == hash || got == "" {
		t.Errorf("pod template annotation %q did not change with the bundle", got)
	}

	// no bundle selected: the copy goes, the workload no longer mounts it
	e.patch(pc, func() { pc.Spec.CABundleRef = nil })
	e.mustReconcile()
	if err := e.tc.Get(run(t), client.ObjectKeyFromObject(copied), copied); !apierrors.IsNotFound(err) {
		t.Errorf("CA bundle copy left behind: %v", err)
	}
	pod = e.deployment(obj).Spec.Template
	if slices.ContainsFunc(pod.Spec.Volumes, func(v corev1.Volume) bool { return v.ConfigMap != nil }) || pod.Annotations[controller.CABundleHashAnnotation] != "" {
		t.Errorf("the chart still mounts a removed CA bundle: %+v %v", pod.Spec.Volumes, pod.Annotations)
	}
}

// TestVeleroIgnoredDuringReconcile: the ignore annotation set while a
// reconcile runs, after the runtime read the Velero or after it added its
// finalizer, stops the reconcile before the provider writes: nothing is
// created on any cluster and the status stays as it was.
func TestVeleroIgnoredDuringReconcile(t *testing.T) {
	for _, when := range []string{"read", "finalizer added"} {
		t.Run(when, func(t *testing.T) {
			var patched atomic.Bool
			var e *veleroEnv
			// userPatch sets the annotation as a user would, once, with a
			// version that would otherwise be refused in the status.
			userPatch := func(obj client.Object) {
				if _, ok := obj.(*v1alpha1.Velero); ok && patched.CompareAndSwap(false, true) {
					live := e.get()
					e.patch(live, func() {
						live.Annotations = map[string]string{apiconst.OperationAnnotation: apiconst.OperationAnnotationValueIgnore}
						live.Spec.Version = veleroDisallowed
					})
				}
			}
			e = newVeleroEnv(t, func(c client.WithWatch) client.WithWatch {
				return interceptor.NewClient(c, interceptor.Funcs{
					Get: func(ctx context.Context, c client.WithWatch, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
						err := c.Get(ctx, key, obj, opts...)
						if err == nil && when == "read" {
							userPatch(obj)
						}
						return err
					},
					Update: func(ctx context.Context, c client.WithWatch, obj client.Object, opts ...client.UpdateOption) error {
						err := c.Update(ctx, obj, opts...)
						if err == nil && when == "finalizer added" {
							userPatch(obj)
						}
						return err
					},
				})
			})
			e.pullSecret(veleroPullSecret)
			e.providerConfig(veleroPullSecret)
			e.create(nil)
			e.mustReconcile()
			if !patched.Load() {
				t.Fatal("the user's patch never landed")
			}
			obj := e.get()
			if n := e.mcp.createdCount("namespaces") + e.workload.createdCount("namespaces") + e.workload.createdCount("secrets"); n != 0 {
				t.Errorf("%d objects were created for an ignored Velero", n)
			}
			if obj.Status.Phase != "" || len(obj.Status.Conditions) != 0 {
				t.Errorf("the status of an ignored Velero was written: %+v", obj.Status)
			}
			if obj.Annotations[apiconst.OperationAnnotation] != apiconst.OperationAnnotationValueIgnore {
				t.Errorf("the ignore annotation was removed: %v", obj.Annotations)
			}
		})
	}
}

// TestVeleroKeepsUsersNamespace: deleting the Velero keeps the workload's
// namespace when a user put something into it: the namespace is released,
// the status and an Event say so, and the provider's own objects go.
func TestVeleroKeepsUsersNamespace(t *testing.T) {
	e := newVeleroEnv(t, nil)
	e.pullSecret(veleroPullSecret)
	e.providerConfig(veleroPullSecret)
	e.create(nil)
	e.mustReconcile()
	ns := veleroWorkloadNamespace(e.get())
	users := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "users-data", Namespace: ns}}
	if err := e.tc.Create(run(t), users); err != nil {
		t.Fatal(err)
	}
	if err := e.c.Delete(run(t), e.get()); err != nil {
		t.Fatal(err)
	}
	var c metav1.Condition
	eventually(t, "the namespace to be released", func() (bool, error) {
		_, err := e.reconcile()
		c = veleroReady(t, e.get())
		return c.Reason == controller.ReasonReleased, err
	})
	if e.get().Status.Phase != serviceprovider.StatusPhaseTerminating || !strings.Contains(c.Message, "ConfigMap users-data") {
		t.Errorf("the status does not say what keeps the namespace: %q", c.Message)
	}
	e.remove()
	kept := &corev1.Namespace{}
	if err := e.tc.Get(run(t), types.NamespacedName{Name: ns}, kept); err != nil || kept.DeletionTimestamp != nil {
		t.Fatalf("the namespace holding a user's object was deleted: %v", err)
	}
	if kept.Annotations[managed.ReleasedAnnotation] != e.owner().String() || kept.Labels[managed.OwnerLabel] != "" {
		t.Errorf("the kept namespace does not say it was released: %v %v", kept.Labels, kept.Annotations)
	}
	if err := e.tc.Get(run(t), client.ObjectKeyFromObject(users), users); err != nil {
		t.Errorf("the user's object is gone: %v", err)
	}
	if n := e.managedCount(ns); n != 0 {
		t.Errorf("%d of the provider's objects left in the kept namespace", n)
	}
	event := eventOf(t, e.c, e.tenantNS, "mcp", corev1.EventTypeNormal, controller.ReasonReleased)
	if !strings.Contains(event.Note, ns) {
		t.Errorf("the Event does not name the namespace: %q", event.Note)
	}
}
