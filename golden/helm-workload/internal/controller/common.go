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

// Package controller holds the provider's reconcilers, one per kind, and
// what they share: the openMCP contract (operation annotations, the
// ProviderConfig, status and Events) and the objects every kind manages.
package controller

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/openmcp-project/controller-utils/pkg/clusters"
	"github.com/openmcp-project/opencontrolplane-runtime/pkg/serviceprovider"
	apiconst "github.com/openmcp-project/openmcp-operator/api/constants"
	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"k8s.io/client-go/tools/events"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"example.com/acme/sp-velero/internal/managed"
)

// Reasons of the Ready condition. They are part of the API: users and tools
// match on them, so change them only with care.
const (
	ReasonReconciling       = "Reconciling"
	ReasonVersionNotAllowed = "VersionNotAllowed"
	ReasonPullSecretMissing = "PullSecretMissing"
	ReasonCABundleMissing   = "CABundleMissing"
	ReasonCABundleInvalid   = "CABundleInvalid"
	// ReasonValuesInvalid: the values of the requested version cannot be
	// mapped to the chart's.
	ReasonValuesInvalid    = "ValuesInvalid"
	ReasonApplyFailed      = "ApplyFailed"
	ReasonWorkloadNotReady = "WorkloadNotReady"
	ReasonDeletionBlocked  = "DeletionBlocked"
	ReasonDeleteFailed     = "DeleteFailed"
	ReasonTerminating      = "Terminating"
	// ReasonReleased: deletion left objects in place that hold what the
	// provider did not create, or that are to be orphaned.
	ReasonReleased = "Released"
)

// ignored reports whether obj carries the ignore operation annotation. Ignored
// objects must be treated as if they did not exist: no change at all.
func ignored(obj client.Object) bool {
	return obj.GetAnnotations()[apiconst.OperationAnnotation] == apiconst.OperationAnnotationValueIgnore
}

// errIgnored stops a reconcile whose object or ProviderConfig got the ignore
// operation annotation after the runtime read them.
var errIgnored = errors.New("the ignore operation annotation was set during the reconcile")

// notIgnored returns a check that reads obj from the onboarding cluster and
// pc from the platform cluster again, right before a write, and fails with
// errIgnored when either now carries the ignore annotation.
func notIgnored(onboarding, platform client.Reader, obj, pc client.Object) func(context.Context) error {
	return func(ctx context.Context) error {
		if err := notIgnoredNow(ctx, onboarding, obj); err != nil {
			return err
		}
		return notIgnoredNow(ctx, platform, pc)
	}
}

func notIgnoredNow(ctx context.Context, c client.Reader, obj client.Object) error {
	live, ok := obj.DeepCopyObject().(client.Object)
	if !ok {
		return fmt.Errorf("cannot copy %T", obj)
	}
	if err := c.Get(ctx, client.ObjectKeyFromObject(obj), live); err != nil {
		return fmt.Errorf("reading %s again before writing: %w", obj.GetName(), err)
	}
	if ignored(live) {
		return fmt.Errorf("%w on %s", errIgnored, obj.GetName())
	}
	return nil
}

// removeReconcileAnnotation removes the reconcile operation annotation once
// the reconcile it asked for has run. It patches a copy so that the caller's
// in-memory status, which the runtime writes afterwards, is not replaced by
// the server's; the patch fails instead of removing an annotation someone
// set since the object was read (ignore, say).
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
	if err := c.Patch(ctx, cp, client.MergeFromWithOptions(base, client.MergeFromWithOptimisticLock{})); err != nil {
		if apierrors.IsConflict(err) {
			return nil // changed since: the next reconcile sees it
		}
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

// released reports every object left in place as a Normal Event on obj.
func released(recorder events.EventRecorder, obj client.Object, results []managed.Result) {
	if recorder == nil {
		return
	}
	for _, r := range managed.Released(results) {
		recorder.Eventf(obj, nil, corev1.EventTypeNormal, ReasonReleased, "Release", "%s", r.Message)
	}
}

// remaining are the results of objects still in place: waiting to be
// deleted, or released.
func remaining(results []managed.Result) []managed.Result {
	return slices.DeleteFunc(slices.Clone(results), func(r managed.Result) bool { return r.Done && !r.Released })
}

// warn records a failure as a Kubernetes Event next to the condition, so it
// shows up in `kubectl describe` and event-based alerting.
func warn(recorder events.EventRecorder, obj client.Object, reason, action, message string) {
	if recorder == nil {
		return
	}
	recorder.Eventf(obj, nil, corev1.EventTypeWarning, reason, action, "%s", message)
}

// ConfigError is something the ProviderConfig refers to that cannot be
// used. The platform operator has to fix it; the message says how.
type ConfigError struct {
	Reason, Action, Message string
}

func (e *ConfigError) Error() string { return e.Message }

// readPullSecrets reads the image pull secrets the ProviderConfig pcName
// refers to from namespace on the platform cluster.
func readPullSecrets(ctx context.Context, platform client.Client, namespace, pcName string, refs []corev1.LocalObjectReference) ([]corev1.Secret, error) {
	secrets := make([]corev1.Secret, 0, len(refs))
	for _, ref := range refs {
		var s corev1.Secret
		if err := platform.Get(ctx, client.ObjectKey{Namespace: namespace, Name: ref.Name}, &s); err != nil {
			if apierrors.IsNotFound(err) {
				return nil, &ConfigError{Reason: ReasonPullSecretMissing, Action: "CopyPullSecret", Message: fmt.Sprintf(
					"image pull secret %q not found in namespace %q on the platform cluster; create it there or remove it from spec.imagePullSecrets of ProviderConfig %s",
					ref.Name, namespace, pcName)}
			}
			return nil, fmt.Errorf("reading image pull secret %q: %w", ref.Name, err)
		}
		secrets = append(secrets, s)
	}
	return secrets, nil
}

// addPullSecrets declares copies of the pull secrets next to the workload;
// copies no longer referenced are removed.
func addPullSecrets(set *managed.Set, cluster managed.Cluster, namespace string, secrets []corev1.Secret) {
	for _, src := range secrets {
		copied := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: src.Name, Namespace: namespace}}
		set.Add(cluster, copied, func() error {
			copied.Type = src.Type
			copied.Data = src.Data
			return nil
		})
	}
	set.Prune(cluster, corev1.SchemeGroupVersion.WithKind("Secret"))
}

// The CA bundle is copied into a ConfigMap next to the workload and
// mounted as one more file of the system's certificate directory, which
// Go and most TLS libraries read.
const (
	CABundleConfigMap = "ca-bundle"
	CABundleKey       = "ca.crt"
	CABundleMountPath = "/etc/ssl/certs/openmcp-ca-bundle.pem"
	// CABundleHashAnnotation on the pods changes with the bundle, so the
	// workload restarts and trusts the new one.
	CABundleHashAnnotation = "velero.services.open-control-plane.io/ca-bundle-hash"
)

// readCABundle reads the PEM certificates ref selects in namespace on the
// platform cluster; nil when the ProviderConfig pcName names none, or when
// an optional one does not exist.
func readCABundle(ctx context.Context, platform client.Client, namespace, pcName string, ref *corev1.ConfigMapKeySelector) ([]byte, error) {
	if ref == nil {
		return nil, nil
	}
	optional := ref.Optional != nil && *ref.Optional
	var cm corev1.ConfigMap
	if err := platform.Get(ctx, client.ObjectKey{Namespace: namespace, Name: ref.Name}, &cm); err != nil {
		if !apierrors.IsNotFound(err) {
			return nil, fmt.Errorf("reading CA bundle ConfigMap %q: %w", ref.Name, err)
		}
		if optional {
			return nil, nil
		}
		return nil, &ConfigError{Reason: ReasonCABundleMissing, Action: "ReadCABundle", Message: fmt.Sprintf(
			"CA bundle ConfigMap %q not found in namespace %q on the platform cluster; create it there or remove spec.caBundleRef from ProviderConfig %s",
			ref.Name, namespace, pcName)}
	}
	bundle, ok := cm.Data[ref.Key]
	if !ok {
		if optional {
			return nil, nil
		}
		return nil, &ConfigError{Reason: ReasonCABundleMissing, Action: "ReadCABundle", Message: fmt.Sprintf(
			"CA bundle ConfigMap %q in namespace %q on the platform cluster has no key %q; add it or correct spec.caBundleRef.key of ProviderConfig %s",
			ref.Name, namespace, ref.Key, pcName)}
	}
	if !x509.NewCertPool().AppendCertsFromPEM([]byte(bundle)) {
		return nil, &ConfigError{Reason: ReasonCABundleInvalid, Action: "ReadCABundle", Message: fmt.Sprintf(
			"key %q of CA bundle ConfigMap %q in namespace %q on the platform cluster holds no PEM-encoded certificate; ProviderConfig %s refers to it",
			ref.Key, ref.Name, namespace, pcName)}
	}
	return []byte(bundle), nil
}

// addCABundle declares the copy of the CA bundle next to the workload, or
// its removal when there is none.
func addCABundle(set *managed.Set, cluster managed.Cluster, namespace string, bundle []byte) {
	if bundle != nil {
		cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: CABundleConfigMap, Namespace: namespace}}
		set.Add(cluster, cm, func() error {
			cm.Data = map[string]string{CABundleKey: string(bundle)}
			return nil
		})
	}
	set.Prune(cluster, corev1.SchemeGroupVersion.WithKind("ConfigMap"))
}

// The workload in the workload cluster reaches the managed control plane
// as a ServiceAccount there, through a kubeconfig Secret next to it.
const (
	ServiceKubeconfigSecret = "mcp-kubeconfig"
	ServiceKubeconfigDir    = "/etc/openmcp/mcp"
	// TokenExpiresAnnotation on the kubeconfig Secret says when its token
	// expires.
	TokenExpiresAnnotation = "velero.services.open-control-plane.io/token-expires"

	serviceTokenLifetime = 24 * time.Hour
	// serviceTokenRenewal is how often tokens are checked: one that
	// expires within this time is replaced, so a token is always renewed
	// at least one check before it expires.
	serviceTokenRenewal = serviceTokenLifetime / 3
)

// addServiceAccess declares the workload's identity on the managed control
// plane (a ServiceAccount in namespace, bound to a ClusterRole with rules)
// and the kubeconfig Secret for it in namespace on the workload cluster.
func addServiceAccess(ctx context.Context, set *managed.Set, mcp *clusters.Cluster, namespace, name string, rules []rbacv1.PolicyRule) {
	set.Add(managed.MCP, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: namespace}}, nil)
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: namespace}}
	set.Add(managed.MCP, sa, nil)
	role := &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: namespace}}
	set.Add(managed.MCP, role, func() error {
		role.Rules = rules
		return nil
	})
	binding := &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: namespace}}
	set.Add(managed.MCP, binding, func() error {
		binding.RoleRef = rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: role.Name}
		binding.Subjects = []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Name: sa.Name, Namespace: namespace}}
		return nil
	})
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: ServiceKubeconfigSecret, Namespace: namespace}}
	set.Add(managed.Workload, secret, func() error {
		return renewServiceToken(ctx, mcp, sa, secret)
	})
}

// renewServiceToken fills secret with a kubeconfig for sa on the managed
// control plane, requesting a new token unless the one it holds is valid
// for longer than serviceTokenRenewal. The kubeconfig reads the token from
// its file, so a renewed token is used without a restart.
func renewServiceToken(ctx context.Context, mcp *clusters.Cluster, sa *corev1.ServiceAccount, secret *corev1.Secret) error {
	expires, err := time.Parse(time.RFC3339, secret.Annotations[TokenExpiresAnnotation])
	if err == nil && time.Until(expires) > serviceTokenRenewal && len(secret.Data["token"]) > 0 {
		return nil
	}
	tr := &authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: ptr.To(int64(serviceTokenLifetime.Seconds()))}}
	if err := mcp.Client().SubResource("token").Create(ctx, sa, tr); err != nil {
		return fmt.Errorf("requesting a token for ServiceAccount %s/%s on the managed control plane: %w", sa.Namespace, sa.Name, err)
	}
	kubeconfig, err := serviceKubeconfig(mcp.RESTConfig())
	if err != nil {
		return err
	}
	secret.Data = map[string][]byte{"kubeconfig": kubeconfig, "token": []byte(tr.Status.Token)}
	secret.Annotations = mergeMaps(secret.Annotations, map[string]string{TokenExpiresAnnotation: tr.Status.ExpirationTimestamp.UTC().Format(time.RFC3339)})
	return nil
}

// serviceKubeconfig points at the managed control plane cfg reaches, with
// the token read from the mounted Secret.
func serviceKubeconfig(cfg *rest.Config) ([]byte, error) {
	if cfg == nil {
		return nil, fmt.Errorf("the managed control plane's connection is unknown")
	}
	cfg = rest.CopyConfig(cfg)
	if err := rest.LoadTLSFiles(cfg); err != nil {
		return nil, fmt.Errorf("reading the managed control plane's CA: %w", err)
	}
	return clientcmd.Write(clientcmdapi.Config{
		Clusters:       map[string]*clientcmdapi.Cluster{"mcp": {Server: cfg.Host, CertificateAuthorityData: cfg.CAData}},
		AuthInfos:      map[string]*clientcmdapi.AuthInfo{"service": {TokenFile: ServiceKubeconfigDir + "/token"}},
		Contexts:       map[string]*clientcmdapi.Context{"mcp": {Cluster: "mcp", AuthInfo: "service"}},
		CurrentContext: "mcp",
	})
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

// mergeMaps sets the entries of src in dst, a map of labels or
// annotations, and returns it; dst may be nil.
func mergeMaps(dst, src map[string]string) map[string]string {
	if dst == nil {
		dst = map[string]string{}
	}
	for k, v := range src {
		dst[k] = v
	}
	return dst
}

func listOrNone(items []string) string {
	if len(items) == 0 {
		return "none"
	}
	return strings.Join(items, ", ")
}
