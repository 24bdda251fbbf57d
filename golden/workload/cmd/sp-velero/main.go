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

// Command sp-velero is the velero service provider. The openMCP
// operator runs its image twice: `init` as a Job that installs the CRDs, and
// `run` as the Deployment that reconciles.
package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/openmcp-project/controller-utils/pkg/clusters"
	crdutil "github.com/openmcp-project/controller-utils/pkg/crds"
	"github.com/openmcp-project/controller-utils/pkg/logging"
	clustersv1alpha1 "github.com/openmcp-project/openmcp-operator/api/clusters/v1alpha1"
	"github.com/openmcp-project/openmcp-operator/api/common"
	openmcpconst "github.com/openmcp-project/openmcp-operator/api/constants"
	"github.com/openmcp-project/openmcp-operator/lib/clusteraccess"
	"github.com/openmcp-project/openmcp-operator/lib/clusteraccess/advanced"
	"github.com/openmcp-project/openmcp-operator/lib/utils"
	"github.com/spf13/cobra"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	"sigs.k8s.io/controller-runtime/pkg/metrics/filters"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"example.com/acme/sp-velero/api/crds"
	"example.com/acme/sp-velero/internal/provider"
	"example.com/acme/sp-velero/internal/wiring"
)

func main() {
	if err := newRootCommand().Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "Error:", err)
		os.Exit(1)
	}
}

// options are the flags every subcommand shares.
type options struct {
	environment     string
	providerName    string
	platformCluster *clusters.Cluster

	log       logging.Logger
	namespace string
}

func newRootCommand() *cobra.Command {
	o := &options{platformCluster: clusters.New("platform")}
	root := &cobra.Command{
		Use:           "sp-velero",
		Short:         "The velero openMCP service provider",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	logging.InitFlags(root.PersistentFlags())
	o.platformCluster.RegisterSingleConfigPathFlag(root.PersistentFlags())
	root.PersistentFlags().StringVar(&o.environment, "environment", "", "Name of the openMCP environment (required). Distinguishes environments that share one onboarding cluster.")
	root.PersistentFlags().StringVar(&o.providerName, "provider-name", "", "Name of the ServiceProvider resource (required). The provider reads the ProviderConfig of the same name.")
	root.AddCommand(newInitCommand(o), newRunCommand(o))
	return root
}

// complete validates the shared flags and connects to the platform cluster.
func (o *options) complete() error {
	if o.environment == "" {
		return errors.New("--environment is required")
	}
	if errs := validation.IsDNS1123Label(o.providerName); len(errs) > 0 {
		return fmt.Errorf("--provider-name %q: %v", o.providerName, errs)
	}
	o.namespace = os.Getenv(openmcpconst.EnvVariablePodNamespace)
	if o.namespace == "" {
		return fmt.Errorf("environment variable %s must be set to the provider's namespace", openmcpconst.EnvVariablePodNamespace)
	}
	log, err := logging.GetLogger()
	if err != nil {
		return fmt.Errorf("setting up logging: %w", err)
	}
	o.log = log.WithValues("environment", o.environment, "provider", o.providerName)
	ctrl.SetLogger(o.log.Logr())
	if err := o.platformCluster.InitializeRESTConfig(); err != nil {
		return fmt.Errorf("loading platform cluster config: %w", err)
	}
	if err := o.platformCluster.InitializeClient(wiring.PlatformScheme()); err != nil {
		return fmt.Errorf("connecting to the platform cluster: %w", err)
	}
	return nil
}

func (o *options) accessManager() clusteraccess.Manager {
	m := clusteraccess.NewClusterAccessManager(o.platformCluster.Client(), o.providerName, o.namespace)
	// openMCP grants access asynchronously; looking every second costs one
	// read of the platform cluster and starts the provider as soon as it can.
	m.WithLogger(&o.log).WithInterval(time.Second).WithTimeout(30 * time.Minute)
	return m
}

func newInitCommand(o *options) *cobra.Command {
	return &cobra.Command{
		Use:   "init",
		Short: "Install the provider's CRDs and register its API (run once per release, as a Job)",
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := o.complete(); err != nil {
				return err
			}
			return runInit(cmd.Context(), o)
		},
	}
}

func runInit(ctx context.Context, o *options) error {
	o.log.Info("Requesting access to the onboarding cluster")
	onboarding, err := o.accessManager().CreateAndWaitForCluster(ctx, clustersv1alpha1.PURPOSE_ONBOARDING+"-init", clustersv1alpha1.PURPOSE_ONBOARDING,
		wiring.OnboardingScheme(), []clustersv1alpha1.PermissionsRequest{{Rules: []rbacv1.PolicyRule{{
			APIGroups: []string{"apiextensions.k8s.io"},
			Resources: []string{"customresourcedefinitions"},
			Verbs:     []string{"get", "list", "watch", "create", "update", "patch"},
		}}}})
	if err != nil {
		return fmt.Errorf("getting access to the onboarding cluster: %w", err)
	}
	o.log.Info("Installing CRDs")
	m := crdutil.NewCRDManager(openmcpconst.ClusterLabel, crds.CRDs)
	m.AddCRDLabelToClusterMapping(clustersv1alpha1.PURPOSE_PLATFORM, o.platformCluster)
	m.AddCRDLabelToClusterMapping(clustersv1alpha1.PURPOSE_ONBOARDING, onboarding)
	if err := m.CreateOrUpdateCRDs(ctx, &o.log); err != nil {
		return fmt.Errorf("installing CRDs: %w", err)
	}
	if err := utils.RegisterGVKsAtServiceProvider(ctx, o.platformCluster.Client(), o.providerName, wiring.Kinds...); err != nil {
		return fmt.Errorf("registering the API at ServiceProvider %s: %w", o.providerName, err)
	}
	o.log.Info("Init finished")
	return nil
}

type runOptions struct {
	metricsAddr    string
	secureMetrics  bool
	probeAddr      string
	leaderElection bool
	enableHTTP2    bool
}

func newRunCommand(o *options) *cobra.Command {
	r := &runOptions{}
	cmd := &cobra.Command{
		Use:   "run",
		Short: "Run the provider's controllers",
		RunE: func(_ *cobra.Command, _ []string) error {
			if err := o.complete(); err != nil {
				return err
			}
			return runManager(ctrl.SetupSignalHandler(), o, r)
		},
	}
	cmd.Flags().StringVar(&r.metricsAddr, "metrics-bind-address", "0", "Address of the metrics endpoint, e.g. :8443 (HTTPS) or :8080 (HTTP); 0 disables it.")
	cmd.Flags().BoolVar(&r.secureMetrics, "metrics-secure", true, "Serve metrics over HTTPS with authentication and authorization.")
	cmd.Flags().StringVar(&r.probeAddr, "health-probe-bind-address", ":8081", "Address of the health and readiness probes.")
	cmd.Flags().BoolVar(&r.leaderElection, "leader-elect", false, "Use a lease on the platform cluster so only one replica reconciles.")
	cmd.Flags().BoolVar(&r.enableHTTP2, "enable-http2", false, "Serve metrics over HTTP/2 (off by default: HTTP/2 rapid-reset CVEs).")
	return cmd
}

func runManager(ctx context.Context, o *options, r *runOptions) error {
	o.log.Info("Requesting access to the onboarding cluster")
	onboarding, err := o.accessManager().CreateAndWaitForCluster(ctx, clustersv1alpha1.PURPOSE_ONBOARDING+"-run", clustersv1alpha1.PURPOSE_ONBOARDING,
		wiring.OnboardingScheme(), []clustersv1alpha1.PermissionsRequest{{Rules: wiring.OnboardingPermissions}})
	if err != nil {
		return fmt.Errorf("getting access to the onboarding cluster: %w", err)
	}
	mgr, err := newManager(o, r, onboarding)
	if err != nil {
		return err
	}
	deps := provider.Deps{
		ProviderName:      o.providerName,
		ProviderNamespace: o.namespace,
		PlatformCluster:   o.platformCluster,
		OnboardingCluster: onboarding,
		Recorder:          mgr.GetEventRecorder(o.providerName + "-" + o.environment),
	}
	if err := wiring.SetupWithManager(mgr, deps, clusterAccess(o)); err != nil {
		return err
	}
	if err := mgr.AddHealthzCheck("healthz", healthz.Ping); err != nil {
		return fmt.Errorf("adding health check: %w", err)
	}
	if err := mgr.AddReadyzCheck("readyz", healthz.Ping); err != nil {
		return fmt.Errorf("adding readiness check: %w", err)
	}
	o.log.Info("Starting manager")
	if err := mgr.Start(ctx); err != nil {
		return fmt.Errorf("running manager: %w", err)
	}
	return nil
}

// newManager builds the manager that watches the provider's kinds on the
// onboarding cluster, with the platform cluster added to it.
func newManager(o *options, r *runOptions, onboarding *clusters.Cluster) (ctrl.Manager, error) {
	var tlsOpts []func(*tls.Config)
	if !r.enableHTTP2 {
		tlsOpts = append(tlsOpts, func(c *tls.Config) { c.NextProtos = []string{"http/1.1"} })
	}
	metrics := metricsserver.Options{BindAddress: r.metricsAddr, SecureServing: r.secureMetrics, TLSOpts: tlsOpts}
	if r.secureMetrics {
		metrics.FilterProvider = filters.WithAuthenticationAndAuthorization
	}
	mgr, err := ctrl.NewManager(onboarding.RESTConfig(), ctrl.Options{
		Scheme:                 onboarding.Scheme(),
		Metrics:                metrics,
		HealthProbeBindAddress: r.probeAddr,
		LeaderElection:         r.leaderElection,
		// The provider has rights only in its own namespace on the platform
		// cluster, so the lease lives there and not on the onboarding cluster.
		LeaderElectionConfig:    o.platformCluster.RESTConfig(),
		LeaderElectionNamespace: o.namespace,
		LeaderElectionID:        o.providerName + "." + wiring.APIGroup,
	})
	if err != nil {
		return nil, fmt.Errorf("creating manager: %w", err)
	}
	if err := mgr.Add(o.platformCluster.Cluster()); err != nil {
		return nil, fmt.Errorf("adding the platform cluster to the manager: %w", err)
	}
	return mgr, nil
}

// clusterAccess requests access to the managed control plane and a workload
// cluster of every request, with the permissions the markers give.
func clusterAccess(o *options) advanced.ClusterAccessReconciler {
	access := advanced.NewClusterAccessReconciler(o.platformCluster.Client(), o.providerName)
	// A request whose managed control plane access is still pending is
	// retried this often; nothing watches the access requests themselves.
	access.WithRetryInterval(2 * time.Second).
		WithManagedLabels(func(controllerName string, req reconcile.Request, reg advanced.ClusterRegistration) (string, string, map[string]string) {
			_, purpose, _ := advanced.DefaultManagedLabelGenerator(controllerName, req, reg)
			return controllerName, purpose, map[string]string{
				openmcpconst.OnboardingNameLabel:      req.Name,
				openmcpconst.OnboardingNamespaceLabel: req.Namespace,
			}
		}).
		Register(advanced.ExistingClusterRequest("mcp", "mcp", func(req reconcile.Request, _ ...any) (*common.ObjectReference, error) {
			namespace, err := utils.StableMCPNamespace(req.Name, req.Namespace)
			if err != nil {
				return nil, err
			}
			return &common.ObjectReference{Name: req.Name, Namespace: namespace}, nil
		}).
			WithNamespaceGenerator(advanced.DefaultNamespaceGeneratorForMCP).
			WithTokenAccess(&clustersv1alpha1.TokenConfig{Permissions: []clustersv1alpha1.PermissionsRequest{{Rules: wiring.MCPPermissions}}}).
			WithScheme(wiring.MCPScheme()).
			Build())
	access.Register(advanced.NewClusterRequest("workload", "wl", advanced.StaticClusterRequestSpecGenerator(&clustersv1alpha1.ClusterRequestSpec{
		Purpose: clustersv1alpha1.PURPOSE_WORKLOAD,
	})).
		WithNamespaceGenerator(advanced.DefaultNamespaceGeneratorForMCP).
		WithTokenAccess(&clustersv1alpha1.TokenConfig{Permissions: []clustersv1alpha1.PermissionsRequest{{Rules: wiring.WorkloadPermissions}}}).
		WithScheme(wiring.WorkloadScheme()).
		Build())
	return access
}
