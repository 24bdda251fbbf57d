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
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net/http"
	"path"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/openmcp-project/controller-utils/pkg/clusters"
	"github.com/openmcp-project/opencontrolplane-runtime/pkg/serviceprovider/clusteraccess"
	clustersv1alpha1 "github.com/openmcp-project/openmcp-operator/api/clusters/v1alpha1"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/events"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/config"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"example.com/acme/sp-velero/internal/controller"
	"example.com/acme/sp-velero/internal/managed"
	"example.com/acme/sp-velero/internal/wiring"
	"example.com/acme/sp-velero/test/apiserver"
)

var testSeq atomic.Int64

// unique returns a name no other test uses, so tests share one API server.
func unique(prefix string) string {
	return fmt.Sprintf("%s-%d-%d", prefix, time.Now().UnixNano()%100000, testSeq.Add(1))
}

// testProvider is one provider, named uniquely, for one managed control
// plane: the object name "mcp" in the namespace tenantNS of the onboarding
// cluster. The reconcilers of several kinds can share it.
type testProvider struct {
	t *testing.T
	// c reaches the platform and onboarding clusters, mc the managed
	// control plane, tc the target cluster, where the workload runs (the
	// managed control plane). Each cluster is an API server of its own, as in
	// openMCP: nothing the provider keeps on one can pass for a user's
	// object on another.
	c, mc, tc    client.Client
	providerName string
	providerNS   string
	tenantNS     string
	mcp          *recordingCluster
	workload     *recordingCluster
}

func newTestProvider(t *testing.T) *testProvider {
	t.Helper()
	apiserver.Start(t, apiServer, mcpServer)
	p := &testProvider{t: t, c: newClient(t, apiServer, wiring.PlatformScheme()), providerName: unique("provider")}
	p.providerNS = createNamespace(t, p.c, "provider")
	p.tenantNS = createNamespace(t, p.c, "tenant")
	p.mcp = newRecordingCluster(t, "mcp", mcpServer, wiring.MCPScheme())
	p.mc = newClient(t, mcpServer, wiring.PlatformScheme())
	p.workload, p.tc = p.mcp, p.mc
	return p
}

// recordingCluster is a cluster that counts the resources created through
// it, so tests can tell which cluster the provider wrote to.
type recordingCluster struct {
	*clusters.Cluster
	mu      sync.Mutex
	created map[string]int
}

func newRecordingCluster(t *testing.T, id string, s *apiserver.Server, scheme *runtime.Scheme) *recordingCluster {
	t.Helper()
	rc := &recordingCluster{created: map[string]int{}}
	cfg := s.Config(t)
	cfg.Wrap(func(next http.RoundTripper) http.RoundTripper {
		return roundTripFunc(func(req *http.Request) (*http.Response, error) {
			if req.Method == http.MethodPost {
				rc.mu.Lock()
				rc.created[path.Base(req.URL.Path)]++
				rc.mu.Unlock()
			}
			return next.RoundTrip(req)
		})
	})
	rc.Cluster = clusters.New(id).WithRESTConfig(cfg)
	if err := rc.InitializeClient(scheme); err != nil {
		t.Fatal(err)
	}
	return rc
}

// createdCount says how many objects of resource (e.g. "deployments") were
// created through the cluster.
func (rc *recordingCluster) createdCount(resource string) int {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return rc.created[resource]
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(req *http.Request) (*http.Response, error) { return f(req) }

// fakeAccess hands out the test clusters instead of requesting access from
// the openMCP operator.
type fakeAccess struct {
	mcp, workload *clusters.Cluster
}

var _ clusteraccess.AdvancedProvider = &fakeAccess{}

func (f *fakeAccess) Access(_ context.Context, _ reconcile.Request, id string, _ ...any) (*clusters.Cluster, error) {
	if id == clusteraccess.WorkloadClusterID {
		return f.workload, nil
	}
	return f.mcp, nil
}

func (f *fakeAccess) AccessRequest(_ context.Context, req reconcile.Request, id string, _ ...any) (*clustersv1alpha1.AccessRequest, error) {
	return &clustersv1alpha1.AccessRequest{ObjectMeta: metav1.ObjectMeta{Name: req.Name + "-" + id, Namespace: req.Namespace}}, nil
}

func (f *fakeAccess) Cluster(context.Context, reconcile.Request, string, ...any) (*clustersv1alpha1.Cluster, error) {
	return nil, nil
}

func (f *fakeAccess) Reconcile(context.Context, reconcile.Request, ...any) (reconcile.Result, error) {
	return reconcile.Result{}, nil
}

func (f *fakeAccess) ReconcileDelete(context.Context, reconcile.Request, ...any) (reconcile.Result, error) {
	return reconcile.Result{}, nil
}

// newClient returns a direct client for an API server.
func newClient(t *testing.T, s *apiserver.Server, scheme *runtime.Scheme) client.Client {
	t.Helper()
	c, err := client.New(s.Config(t), client.Options{Scheme: scheme})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// newCluster connects a clusters.Cluster to the test API server.
func newCluster(t *testing.T, id string, scheme *runtime.Scheme) *clusters.Cluster {
	t.Helper()
	c := clusters.New(id).WithRESTConfig(apiServer.Config(t))
	if err := c.InitializeClient(scheme); err != nil {
		t.Fatal(err)
	}
	return c
}

// dropMCP removes, when the test ends, the cluster-wide objects made for
// owner on the shared target API server, as if its managed control plane
// were gone: each test's managed control plane starts without them.
func dropMCP(t *testing.T, c client.Client, owner managed.Owner) {
	t.Helper()
	t.Cleanup(func() {
		ctx := context.Background()
		for _, gvk := range []schema.GroupVersionKind{
			apiextensionsv1.SchemeGroupVersion.WithKind("CustomResourceDefinition"),
			rbacv1.SchemeGroupVersion.WithKind("ClusterRole"),
			rbacv1.SchemeGroupVersion.WithKind("ClusterRoleBinding"),
			corev1.SchemeGroupVersion.WithKind("Namespace"),
		} {
			list := &metav1.PartialObjectMetadataList{}
			list.SetGroupVersionKind(gvk.GroupVersion().WithKind(gvk.Kind + "List"))
			if err := c.List(ctx, list, client.MatchingLabels{managed.OwnerLabel: owner.Label()}); err != nil {
				t.Errorf("listing what the test left: %v", err)
				continue
			}
			for i := range list.Items {
				if err := c.Delete(ctx, &list.Items[i]); client.IgnoreNotFound(err) != nil {
					t.Errorf("removing %s %s the test left: %v", gvk.Kind, list.Items[i].Name, err)
				}
			}
			if gvk.Kind == "CustomResourceDefinition" {
				waitGone(t, c, list.Items)
			}
		}
	})
}

// waitGone waits until objs are deleted: a CRD goes only after its objects,
// and until then the next test would find it owned by this one. (Namespaces
// never go here: the API server has no controller to empty them.)
func waitGone(t *testing.T, c client.Client, objs []metav1.PartialObjectMetadata) {
	t.Helper()
	for i := range objs {
		obj := &objs[i]
		eventually(t, obj.Kind+" "+obj.Name+" to be gone", func() (bool, error) {
			err := c.Get(context.Background(), client.ObjectKeyFromObject(obj), obj)
			return apierrors.IsNotFound(err), client.IgnoreNotFound(err)
		})
	}
}

// newManager is only used to register reconcilers; it is never started, so
// tests drive every reconcile themselves and can check each step.
func newManager(t *testing.T, scheme *runtime.Scheme) ctrl.Manager {
	t.Helper()
	mgr, err := ctrl.NewManager(apiServer.Config(t), ctrl.Options{
		Scheme:                 scheme,
		Metrics:                metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress: "0",
		// Every test registers a controller named after its own provider.
		Controller: config.Controller{SkipNameValidation: ptr.To(true)},
	})
	if err != nil {
		t.Fatal(err)
	}
	return mgr
}

// newRecorder writes Events to the test API server.
func newRecorder(t *testing.T, scheme *runtime.Scheme) events.EventRecorder {
	t.Helper()
	cs, err := kubernetes.NewForConfig(apiServer.Config(t))
	if err != nil {
		t.Fatal(err)
	}
	b := events.NewBroadcaster(&events.EventSinkImpl{Interface: cs.EventsV1()})
	stop := make(chan struct{})
	b.StartRecordingToSink(stop)
	t.Cleanup(func() { close(stop); b.Shutdown() })
	return b.NewRecorder(scheme, "envtest")
}

// createNamespace creates a namespace for one test.
func createNamespace(t *testing.T, c client.Client, prefix string) string {
	t.Helper()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: unique(prefix)}}
	if err := c.Create(run(t), ns); err != nil {
		t.Fatal(err)
	}
	return ns.Name
}

// eventually polls cond until it holds or the time is up.
func eventually(t *testing.T, what string, cond func() (bool, error)) {
	t.Helper()
	deadline := time.Now().Add(apiserver.Timeout(time.Minute))
	for {
		ok, err := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s (last error: %v)", what, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// reconcileUntilDone reconciles until the reconciler asks for no requeue:
// removing objects that wait for each other takes a reconcile each.
func reconcileUntilDone(t *testing.T, reconcile func() (ctrl.Result, error)) {
	t.Helper()
	eventually(t, "a reconcile that needs no requeue", func() (bool, error) {
		res, err := reconcile()
		return err == nil && res.RequeueAfter == 0, err
	})
}

// warningEvent waits for a Warning event with reason on the object, "mcp".
func warningEvent(t *testing.T, c client.Client, namespace, reason string) {
	t.Helper()
	eventOf(t, c, namespace, "mcp", corev1.EventTypeWarning, reason)
}

// eventOf waits for an event of type with reason on the object named name.
func eventOf(t *testing.T, c client.Client, namespace, name, eventType, reason string) eventsv1.Event {
	t.Helper()
	var found eventsv1.Event
	eventually(t, eventType+" event "+reason+" for "+name, func() (bool, error) {
		var list eventsv1.EventList
		if err := c.List(run(t), &list, client.InNamespace(namespace)); err != nil {
			return false, err
		}
		for _, e := range list.Items {
			if e.Regarding.Name == name && e.Reason == reason && e.Type == eventType {
				found = e
				return true, nil
			}
		}
		return false, nil
	})
	return found
}

// installTestDomainCRD installs a CRD standing for the domain service's own
// API, whose objects must block deletion.
func installTestDomainCRD(t *testing.T, c client.Client) schema.GroupVersionKind {
	t.Helper()
	group := unique("d") + ".test.example"
	crd := &apiextensionsv1.CustomResourceDefinition{
		ObjectMeta: metav1.ObjectMeta{Name: "widgets." + group},
		Spec: apiextensionsv1.CustomResourceDefinitionSpec{
			Group: group,
			Names: apiextensionsv1.CustomResourceDefinitionNames{Plural: "widgets", Singular: "widget", Kind: "Widget", ListKind: "WidgetList"},
			Scope: apiextensionsv1.NamespaceScoped,
			Versions: []apiextensionsv1.CustomResourceDefinitionVersion{{
				Name: "v1", Served: true, Storage: true,
				Schema: &apiextensionsv1.CustomResourceValidation{OpenAPIV3Schema: &apiextensionsv1.JSONSchemaProps{Type: "object"}},
			}},
		},
	}
	if err := c.Create(run(t), crd); err != nil {
		t.Fatal(err)
	}
	eventually(t, "CRD "+crd.Name+" to be established", func() (bool, error) {
		if err := c.Get(run(t), client.ObjectKeyFromObject(crd), crd); err != nil {
			return false, err
		}
		for _, cond := range crd.Status.Conditions {
			if cond.Type == apiextensionsv1.Established && cond.Status == apiextensionsv1.ConditionTrue {
				return true, nil
			}
		}
		return false, nil
	})
	return schema.GroupVersionKind{Group: group, Version: "v1", Kind: "Widget"}
}

// pullSecretAuth is the secret material of the tests' image pull secrets.
const pullSecretAuth = "c2VjcmV0LXRva2Vu"

// noSecrets fails when a condition message contains secret material.
func noSecrets(t *testing.T, conds []metav1.Condition) {
	t.Helper()
	for _, c := range conds {
		if strings.Contains(c.Message, pullSecretAuth) {
			t.Errorf("condition %s exposes secret material: %q", c.Type, c.Message)
		}
	}
}

// newTestCA returns a new self-signed CA certificate, PEM-encoded.
func newTestCA(t *testing.T) string {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(testSeq.Add(1)),
		Subject:               pkix.Name{CommonName: unique("test-ca")},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
}

// expectTrusted checks that every container mounts the CA bundle and
// searches it first for certificates.
func expectTrusted(t *testing.T, pod corev1.PodTemplateSpec) {
	t.Helper()
	if pod.Annotations[controller.CABundleHashAnnotation] == "" {
		t.Errorf("pod template has no CA bundle hash, so changes would not restart it")
	}
	for _, c := range pod.Spec.Containers {
		mounted := slices.ContainsFunc(c.VolumeMounts, func(m corev1.VolumeMount) bool { return m.MountPath == controller.CABundleDir })
		trusted := slices.ContainsFunc(c.Env, func(v corev1.EnvVar) bool {
			return v.Name == "SSL_CERT_DIR" && strings.HasPrefix(v.Value, controller.CABundleDir+":")
		})
		if !mounted || !trusted {
			t.Errorf("container %s does not trust the CA bundle (mounted %v, SSL_CERT_DIR %v)", c.Name, mounted, trusted)
		}
	}
}
