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
	"fmt"
	"strings"
	"testing"
	"time"

	helmv2 "github.com/fluxcd/helm-controller/api/v2"
	sourcev1 "github.com/fluxcd/source-controller/api/v1"
	"github.com/openmcp-project/opencontrolplane-runtime/pkg/serviceprovider"
	"github.com/openmcp-project/opencontrolplane-runtime/pkg/serviceprovider/clusteraccess"
	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1alpha1 "example.com/acme/sp-velero/api/v1alpha1"
	"example.com/acme/sp-velero/internal/controller"
)

const (
	scheduleChart         = "oci://registry.example.com/charts/schedule"
	scheduleChartVersion  = "2.3.4"
	scheduleChartSecret   = "chartcred"
	scheduleChartCASecret = "chart-registry-ca"
)

// scheduleAccessSecret is the access secret openMCP hands out for the
// cluster the chart is installed into, for the tests' Schedule "mcp".
var scheduleAccessSecret = accessSecretName("mcp", clusteraccess.WorkloadClusterID)

// release reads what Flux is asked to install for obj: the HelmRelease and
// the OCIRepository of its chart, on the platform cluster.
func (e *scheduleEnv) release(obj *v1alpha1.Schedule) (*helmv2.HelmRelease, *sourcev1.OCIRepository) {
	e.t.Helper()
	r := scheduleResource(obj, helmv2.HelmReleaseKind)
	if r == nil || r.Namespace == nil {
		e.t.Fatalf("status lists no HelmRelease: %+v", obj.Status.Resources)
	}
	hr := &helmv2.HelmRelease{}
	if err := e.c.Get(run(e.t), types.NamespacedName{Namespace: *r.Namespace, Name: r.Name}, hr); err != nil {
		e.t.Fatalf("HelmRelease not found: %v", err)
	}
	repo := &sourcev1.OCIRepository{}
	if hr.Spec.ChartRef == nil {
		e.t.Fatalf("HelmRelease %s has no chart", r.Name)
	}
	if err := e.c.Get(run(e.t), types.NamespacedName{Namespace: hr.Spec.ChartRef.Namespace, Name: hr.Spec.ChartRef.Name}, repo); err != nil {
		e.t.Fatalf("the chart's OCIRepository not found: %v", err)
	}
	return hr, repo
}

// fluxInstalled stands in for Flux: the chart is fetched and installed.
func (e *scheduleEnv) fluxInstalled(obj *v1alpha1.Schedule) {
	e.t.Helper()
	hr, repo := e.release(obj)
	fluxReports(e.t, e.c, repo, metav1.ConditionTrue, "Succeeded", "stored artifact for digest sha256:0123")
	fluxReports(e.t, e.c, hr, metav1.ConditionTrue, "InstallSucceeded", "Helm install succeeded")
}

// TestScheduleHelmRelease: the chart version the requested version names
// is fetched with the chart pull secret from a registry with its own CA and
// installed into the target cluster; values that are no object are a clear
// condition; the status follows Flux's Ready condition without leaking
// values or secrets; deletion waits until Flux has uninstalled the release
// and leaves nothing behind.
func TestScheduleHelmRelease(t *testing.T) {
	e := newScheduleEnv(t, nil)
	pc := e.providerConfig()
	e.patch(pc, func() {
		v := e.version(pc)
		v.ChartVersion, v.ChartPullSecret, v.ChartCertSecret = scheduleChartVersion, scheduleChartSecret, scheduleChartCASecret
	})
	e.create(nil)

	// missing chart secrets are named, and retried
	res := e.mustReconcile()
	c := expectScheduleReason(t, e.get(), serviceprovider.StatusPhaseProgressing, controller.ReasonPullSecretMissing)
	if !strings.Contains(c.Message, `"`+scheduleChartSecret+`"`) || res.RequeueAfter == 0 {
		t.Errorf("condition does not name the chart pull secret or no retry: %q %v", c.Message, res)
	}
	e.pullSecret(scheduleChartSecret)
	e.mustReconcile()
	c = expectScheduleReason(t, e.get(), serviceprovider.StatusPhaseProgressing, controller.ReasonPullSecretMissing)
	if !strings.Contains(c.Message, `"`+scheduleChartCASecret+`"`) {
		t.Errorf("condition does not name the chart registry's certificates: %q", c.Message)
	}
	ca := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: scheduleChartCASecret, Namespace: e.providerNS},
		Data:       map[string][]byte{"ca.crt": []byte(newTestCA(t))},
	}
	if err := e.c.Create(run(t), ca); err != nil {
		t.Fatal(err)
	}

	// values that are no object are the operator's to fix
	values := e.version(pc).Values
	e.patch(pc, func() { e.version(pc).Values = &apiextensionsv1.JSON{Raw: []byte(`["not", "an", "object"]`)} })
	e.mustReconcile()
	c = expectScheduleReason(t, e.get(), serviceprovider.StatusPhaseProgressing, controller.ReasonValuesInvalid)
	if !strings.Contains(c.Message, scheduleAllowed) || !strings.Contains(c.Message, pc.Name) {
		t.Errorf("condition does not name the version and ProviderConfig: %q", c.Message)
	}
	e.patch(pc, func() { e.version(pc).Values = values })

	// the chart version is fetched with copies of the chart's secrets
	e.mustReconcile()
	obj := e.get()
	c = expectScheduleReason(t, obj, serviceprovider.StatusPhaseProgressing, controller.ReasonWorkloadNotReady)
	if !strings.Contains(c.Message, "waiting for Flux") {
		t.Errorf("condition does not say that Flux has yet to act: %q", c.Message)
	}
	hr, repo := e.release(obj)
	if repo.Spec.URL != scheduleChart || repo.Spec.Reference == nil || repo.Spec.Reference.Tag != scheduleChartVersion {
		t.Errorf("chart source %s %+v, want chart version %s of %s", repo.Spec.URL, repo.Spec.Reference, scheduleChartVersion, scheduleChart)
	}
	if repo.Spec.SecretRef == nil || repo.Spec.CertSecretRef == nil {
		t.Fatalf("the chart is fetched without the chart pull secret or the registry's CA: %+v %+v", repo.Spec.SecretRef, repo.Spec.CertSecretRef)
	}
	copied := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: repo.Spec.SecretRef.Name, Namespace: repo.Namespace}}
	if err := e.c.Get(run(t), client.ObjectKeyFromObject(copied), copied); err != nil || string(copied.Data[corev1.DockerConfigJsonKey]) != scheduleSecretData {
		t.Errorf("chart pull secret not copied next to the OCIRepository: %v", err)
	}
	copiedCA := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: repo.Spec.CertSecretRef.Name, Namespace: repo.Namespace}}
	if err := e.c.Get(run(t), client.ObjectKeyFromObject(copiedCA), copiedCA); err != nil || string(copiedCA.Data["ca.crt"]) != string(ca.Data["ca.crt"]) {
		t.Errorf("the registry's CA not copied next to the OCIRepository: %v", err)
	}
	if ref := hr.Spec.KubeConfig; ref == nil || ref.SecretRef == nil || ref.SecretRef.Name != scheduleAccessSecret || hr.Namespace != e.tenantNS {
		t.Errorf("HelmRelease %s/%s does not use openMCP's access secret %s: %+v", hr.Namespace, hr.Name, scheduleAccessSecret, hr.Spec.KubeConfig)
	}
	if ns := scheduleWorkloadNamespace(obj); hr.Spec.TargetNamespace != ns || hr.Spec.StorageNamespace != ns {
		t.Errorf("release installs into %q (storage %q), want the workload's namespace %q", hr.Spec.TargetNamespace, hr.Spec.StorageNamespace, ns)
	}
	if strings.Contains(string(hr.Spec.Values.Raw), scheduleSecretData) {
		t.Errorf("values carry secret data: %s", hr.Spec.Values.Raw)
	}

	// a failed release: Flux's reason and message reach the status
	fluxReports(e.t, e.c, repo, metav1.ConditionTrue, "Succeeded", "stored artifact for digest sha256:0123")
	fluxReports(e.t, e.c, hr, metav1.ConditionFalse, "InstallFailed", "Helm install failed for release schedule: context deadline exceeded")
	e.mustReconcile()
	obj = e.get()
	c = expectScheduleReason(t, obj, serviceprovider.StatusPhaseProgressing, controller.ReasonWorkloadNotReady)
	if !strings.Contains(c.Message, "InstallFailed") || !strings.Contains(c.Message, "context deadline exceeded") {
		t.Errorf("condition does not pass on why the release failed: %q", c.Message)
	}
	if r := scheduleResource(obj, helmv2.HelmReleaseKind); r == nil || r.Phase != serviceprovider.StatusPhaseProgressing || r.Cluster != "platform" {
		t.Errorf("status does not list the failing HelmRelease on the platform cluster: %+v", r)
	}
	noSecrets(t, obj.Status.Conditions)

	// ready once Flux reports the release installed
	fluxReports(e.t, e.c, hr, metav1.ConditionTrue, "InstallSucceeded", "Helm install succeeded")
	e.mustReconcile()
	expectScheduleReason(t, e.get(), serviceprovider.StatusPhaseReady, "ReconcileSuccess")

	// a change Flux has not seen yet: Ready of the previous generation does not count
	e.patch(pc, func() { pc.Spec.PollInterval = &metav1.Duration{Duration: 2 * time.Minute} })
	e.mustReconcile()
	c = expectScheduleReason(t, e.get(), serviceprovider.StatusPhaseProgressing, controller.ReasonWorkloadNotReady)
	if !strings.Contains(c.Message, "waiting for Flux") {
		t.Errorf("a stale Ready condition was taken for the new spec: %q", c.Message)
	}
	e.fluxInstalled(obj)
	e.mustReconcile()
	expectScheduleReason(t, e.get(), serviceprovider.StatusPhaseReady, "ReconcileSuccess")

	// deletion waits until Flux has uninstalled the release
	e.patch(hr, func() { hr.Finalizers = append(hr.Finalizers, "finalizers.fluxcd.io") })
	if err := e.c.Delete(run(t), obj); err != nil {
		t.Fatal(err)
	}
	// Objects declared after the release go first; then it waits.
	eventually(t, "a condition that says deletion waits for the HelmRelease", func() (bool, error) {
		if res := e.mustReconcile(); res.RequeueAfter == 0 {
			t.Fatalf("deletion does not wait for the uninstall")
		}
		c = expectScheduleReason(t, e.get(), serviceprovider.StatusPhaseTerminating, controller.ReasonTerminating)
		return strings.Contains(c.Message, "HelmRelease "+hr.Namespace+"/"+hr.Name), fmt.Errorf("the condition says %q", c.Message)
	})
	target := &corev1.Namespace{}
	if err := e.tc.Get(run(t), types.NamespacedName{Name: scheduleWorkloadNamespace(obj)}, target); err != nil || target.DeletionTimestamp != nil {
		t.Errorf("the workload's namespace is removed before the release is uninstalled: %v", err)
	}
	e.patch(hr, func() { hr.Finalizers = nil })
	reconcileUntilDone(t, e.reconcile)
	for _, o := range []client.Object{obj, hr, repo, copied, copiedCA} {
		if err := e.c.Get(run(t), client.ObjectKeyFromObject(o), o); !apierrors.IsNotFound(err) {
			t.Errorf("%T %s left behind after delete: %v", o, client.ObjectKeyFromObject(o), err)
		}
	}
}
