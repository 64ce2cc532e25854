using System;
using System.Management.Automation;
using ClusterDR.Transport;

namespace ClusterDR.Commands
{
    /// <summary>The S3 gateway, keys and store/database nodes of the Deis store cmdlets.</summary>
    public abstract class DeisStoreCmdletBase : SingleNodeCmdletBase
    {
        /// <summary>The store's S3 gateway, addressed path-style (http://deis-store.example.com).</summary>
        [Parameter(Mandatory = true)]
        [Alias("Gateway")]
        public Uri GatewayUri { get; set; }

        /// <summary>Access key (user name) and secret key (password); without it the keys are read with deisctl on -Node.</summary>
        [Parameter]
        public PSCredential Credential { get; set; }

        /// <summary>A store node ("localhost" or user@host:port): Ceph guard, store volume, deisctl.</summary>
        [Parameter(Position = 0, ParameterSetName = NodeSet)]
        [Alias("ComputerName", "StoreNode")]
        public override string Node { get => base.Node; set => base.Node = value; }

        /// <summary>The node that runs the database (default: -Node).</summary>
        [Parameter]
        public string DatabaseNode { get; set; }

        /// <summary>The buckets of the store.</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string[] Bucket { get; set; } = ClusterDR.Deis.DeisStore.DefaultBuckets;

        [Parameter]
        [ValidateSet("4", "2")]
        public string SignatureVersion { get; set; } = "4";

        [Parameter]
        public string Region { get; set; } = "us-east-1";

        [Parameter]
        [ValidateRange(1, 64)]
        public int Parallelism { get; set; } = 16;

        [Parameter]
        public string StoreDirectory { get; set; } = "/var/lib/deis/store";

        /// <summary>deisctl on -Node, for the keys.</summary>
        [Parameter]
        public string DeisctlPath { get; set; } = "deisctl";

        /// <summary>Include the database (pg_dumpall on backup, loading the dump on restore).</summary>
        [Parameter]
        public SwitchParameter IncludeDatabase { get; set; }

        /// <summary>Leave the store volume out.</summary>
        [Parameter]
        public SwitchParameter SkipVolume { get; set; }

        protected ClusterDR.Deis.DeisS3Options S3() => new ClusterDR.Deis.DeisS3Options
        {
            GatewayUri = GatewayUri,
            AccessKey = Credential?.UserName,
            SecretKey = Credential?.Password,
            SignatureVersion = SignatureVersion,
            Region = Region,
            Buckets = Bucket,
            Parallelism = Parallelism,
        };

        protected virtual ClusterDR.Deis.DeisNodeOptions Nodes() => new ClusterDR.Deis.DeisNodeOptions { StoreDir = StoreDirectory, DeisctlPath = DeisctlPath };

        protected IRemoteShell NodeShell(string node) => string.IsNullOrEmpty(node) ? null : ShellFactory.Create(node, null, Ssh());

        /// <summary>The store node: the Posh-SSH session when given, else -Node (none when neither is given).</summary>
        protected IRemoteShell StoreShell() => SshSession != null ? ShellFactory.Create(null, SshSession, Ssh()) : NodeShell(Node);
    }
}
