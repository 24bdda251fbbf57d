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
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	logf "sigs.k8s.io/controller-runtime/pkg/log"

	"example.com/acme/sp-velero/internal/managed"
	"example.com/acme/sp-velero/internal/provider"
)

// What every kind's workload stands on (see addWorkloadBase) needs these
// permissions; `spgen generate` derives the provider's from the markers.
//
// +spgen:rbac:cluster=mcp,groups="",resources=namespaces;secrets;configmaps,verbs=get;list;watch;create;update;patch;delete

// Requeue intervals while waiting for something outside the provider.
const (
	waitShort = 5 * time.Second
	waitLong  = 30 * time.Second
)

// Lifecycle holds what the reconcilers of every kind share: the provider's
// clusters and settings, and the steps of the openMCP contract that do not
// depend on the kind (operation annotations, status, Events, installing and
// removing the managed objects). Each kind's reconciler embeds it and adds
// what is its own.
type Lifecycle struct {
	PlatformCluster   *clusters.Cluster
	OnboardingCluster *clusters.Cluster
	// ProviderNamespace is the provider's namespace on the platform cluster,
	// where the image pull secrets and the CA bundle of the ProviderConfig
	// live.
	ProviderNamespace string
	// ProviderName owns, with each object, what is managed for it.
	ProviderName string
	// Recorder reports failures as Kubernetes Events on users' objects.
	Recorder events.EventRecorder
}

// newLifecycle takes the provider's dependencies the wiring passes.
func newLifecycle(d provider.Deps) Lifecycle {
	return Lifecycle{
		PlatformCluster:   d.PlatformCluster,
		OnboardingCluster: d.OnboardingCluster,
		ProviderNamespace: d.ProviderNamespace,
		ProviderName:      d.ProviderName,
		Recorder:          d.Recorder,
	}
}

// newSet starts the set of objects managed for obj, of kind gk: objects of
// another kind or provider, even for the same managed control plane, are
// never touched for obj, and nothing is written once obj or pc carries the
// ignore operation annotation.
func (l *Lifecycle) newSet(gk schema.GroupKind, obj, pc client.Object, cc clusteraccess.ClusterContext) *managed.Set {
	owner := managed.Owner{Provider: l.ProviderName, GroupKind: gk, Namespace: obj.GetNamespace(), Name: obj.GetName()}
	set := managed.NewSet(owner, map[managed.Cluster]client.Client{
		managed.Platform: l.PlatformCluster.Client(),
		managed.MCP:      cc.MCPCluster.Client(),
	})
	set.Guard(notIgnored(l.OnboardingCluster.Client(), l.PlatformCluster.Client(), obj, pc))
	return set
}

// workloadConfig is what the ProviderConfig gives every workload: the image
// pull secrets and the CA bundle, read from the provider's namespace.
type workloadConfig struct {
	PullSecrets []corev1.Secret
	// CABundle holds PEM certificates the workload trusts besides the
	// system's; nil when the ProviderConfig names none.
	CABundle []byte
}

// readConfig reads the image pull secrets and the CA bundle the
// ProviderConfig pcName refers to.
func (l *Lifecycle) readConfig(ctx context.Context, pcName string, pullSecrets []corev1.LocalObjectReference, caBundle *corev1.ConfigMapKeySelector) (workloadConfig, error) {
	platform := l.PlatformCluster.Client()
	var c workloadConfig
	var err error
	if c.PullSecrets, err = readPullSecrets(ctx, platform, l.ProviderNamespace, pcName, pullSecrets); err != nil {
		return c, err
	}
	c.CABundle, err = readCABundle(ctx, platform, l.ProviderNamespace, pcName, caBundle)
	return c, err
}

// addWorkloadBase declares what every workload stands on in namespace of
// the target cluster: the namespace, the copied pull secrets and CA bundle.
func (l *Lifecycle) addWorkloadBase(set *managed.Set, target managed.Cluster, namespace string, c workloadConfig) {
	set.Add(target, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: namespace}}, nil)
	addPullSecrets(set, target, namespace, c.PullSecrets)
	addCABundle(set, target, namespace, c.CABundle)
}

// round is one reconcile of an object: what is managed for it and how that
// shows in its status.
type round struct {
	obj serviceprovider.API
	pc  serviceprovider.Config
	set *managed.Set
	// list writes the managed objects into obj's status; objects that are
	// not ready get the phase notReady.
	list func(results []managed.Result, notReady string)
	// blockedBy are the domain kinds whose objects on the managed control
	// plane keep obj from being deleted.
	blockedBy []schema.GroupVersionKind
}

// skip reports whether obj or pc carries the ignore operation annotation:
// the runtime looked for it on obj before it read obj again to add its
// finalizer, so a user may have set it in between. A non-zero requeue keeps
// the finalizer during deletion.
func skip(ctx context.Context, obj client.Object, pc serviceprovider.Config) (ctrl.Result, bool) {
	if !ignored(obj) && !ignored(pc) {
		return ctrl.Result{}, false
	}
	logf.FromContext(ctx).Info("the object or its ProviderConfig carries the ignore operation annotation; changing nothing", "providerConfig", pc.GetName())
	return ctrl.Result{RequeueAfter: pc.PollInterval()}, true
}

// install applies what is managed for the object and reports progress in
// its status: ready once every object is. requeue is how soon a ready
// object is reconciled again.
func (l *Lifecycle) install(ctx context.Context, r round, requeue time.Duration) (ctrl.Result, error) {
	results, err := r.set.Apply(ctx)
	if errors.Is(err, errIgnored) {
		logf.FromContext(ctx).Info("stopped without writing", "reason", err.Error())
		return ctrl.Result{}, nil
	}
	r.list(results, serviceprovider.StatusPhaseProgressing)
	released(l.Recorder, r.obj, results)
	if err != nil {
		l.fail(r.obj, ReasonApplyFailed, "Apply", err.Error())
		return ctrl.Result{}, err
	}
	if waiting, ok := managed.Waiting(results); ok {
		serviceprovider.StatusProgressing(r.obj, ReasonWorkloadNotReady, waiting.Message)
		return ctrl.Result{RequeueAfter: waitShort}, nil
	}
	serviceprovider.StatusReady(r.obj)
	return ctrl.Result{RequeueAfter: requeue}, nil
}

// uninstall removes what is managed for the object once no objects of its
// domain kinds are left on the managed control plane.
func (l *Lifecycle) uninstall(ctx context.Context, r round, mcp client.Client) (ctrl.Result, error) {
	if res, blocked, err := l.blocked(ctx, r, mcp); blocked || err != nil {
		return res, err
	}
	results, err := r.set.Delete(ctx)
	if errors.Is(err, errIgnored) {
		return ctrl.Result{RequeueAfter: r.pc.PollInterval()}, nil
	}
	r.list(remaining(results), serviceprovider.StatusPhaseTerminating)
	released(l.Recorder, r.obj, results)
	if err != nil {
		l.terminating(r.obj, ReasonDeleteFailed, "removing the domain service failed: "+err.Error(), true)
		return ctrl.Result{}, err
	}
	if waiting, ok := managed.Waiting(results); ok {
		l.terminating(r.obj, ReasonTerminating, waiting.Message, false)
		return ctrl.Result{RequeueAfter: waitShort}, nil
	}
	if kept := managed.Released(results); len(kept) > 0 {
		// One more round, so the status says what stays before obj goes.
		l.terminating(r.obj, ReasonReleased, kept[0].Message, false)
		return ctrl.Result{RequeueAfter: time.Second}, nil
	}
	return ctrl.Result{}, nil
}

// blocked reports whether objects of the domain kinds keep the object from
// being deleted, with the result to return then.
func (l *Lifecycle) blocked(ctx context.Context, r round, mcp client.Client) (ctrl.Result, bool, error) {
	blocking, err := blockingKinds(ctx, mcp, r.blockedBy)
	if err != nil {
		setTerminating(r.obj, ReasonDeleteFailed, "cannot check for remaining user resources: "+err.Error())
		return ctrl.Result{}, true, err
	}
	if len(blocking) == 0 {
		return ctrl.Result{}, false, nil
	}
	msg := fmt.Sprintf("deletion waits until all objects of kind %s are deleted from the managed control plane", strings.Join(blocking, ", "))
	l.terminating(r.obj, ReasonDeletionBlocked, msg, true)
	return ctrl.Result{RequeueAfter: waitShort}, true, nil
}

// terminating reports the state of a deletion, also as a warning Event when
// the user has to act.
func (l *Lifecycle) terminating(obj serviceprovider.API, reason, msg string, event bool) {
	setTerminating(obj, reason, msg)
	if event {
		warn(l.Recorder, obj, reason, "Delete", msg)
	}
}

// fail reports a problem the user or operator must fix: as condition and Event.
func (l *Lifecycle) fail(obj serviceprovider.API, reason, action, msg string) {
	serviceprovider.StatusProgressing(obj, reason, msg)
	warn(l.Recorder, obj, reason, action, msg)
}

// versionNotAllowed reports a version the ProviderConfig pcName does not
// list; the user or the platform operator has to change something.
func (l *Lifecycle) versionNotAllowed(obj serviceprovider.API, pcName, version string, allowed []string) (ctrl.Result, error) {
	msg := fmt.Sprintf("version %q is not allowed by ProviderConfig %q (allowed: %s); set spec.version to an allowed version or ask your platform operator to allow it",
		version, pcName, listOrNone(allowed))
	l.fail(obj, ReasonVersionNotAllowed, "ResolveVersion", msg)
	return ctrl.Result{}, nil
}

// configFailed reports what the ProviderConfig refers to but cannot be
// used, and retries later: the platform operator has to fix it.
func (l *Lifecycle) configFailed(obj serviceprovider.API, err error) (ctrl.Result, error) {
	var ce *ConfigError
	if errors.As(err, &ce) {
		l.fail(obj, ce.Reason, ce.Action, ce.Message)
		return ctrl.Result{RequeueAfter: waitLong}, nil
	}
	l.fail(obj, ReasonApplyFailed, "ReadProviderConfig", err.Error())
	return ctrl.Result{}, err
}

// finishOperation removes the reconcile operation annotation from obj and the
// ProviderConfig after the reconcile it asked for.
func (l *Lifecycle) finishOperation(ctx context.Context, obj, pc client.Object) {
	log := logf.FromContext(ctx)
	if err := removeReconcileAnnotation(ctx, l.OnboardingCluster.Client(), obj); err != nil {
		log.Error(err, "cannot remove operation annotation", "object", client.ObjectKeyFromObject(obj))
	}
	if err := removeReconcileAnnotation(ctx, l.PlatformCluster.Client(), pc); err != nil {
		log.Error(err, "cannot remove operation annotation", "providerConfig", pc.GetName())
	}
}

// instance is a short stable ID of obj, used in names and labels.
func instance(obj client.Object) string {
	sum := sha256.Sum256([]byte(obj.GetNamespace() + "/" + obj.GetName()))
	return hex.EncodeToString(sum[:])[:12]
}
