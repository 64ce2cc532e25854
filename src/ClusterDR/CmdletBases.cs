using System;
using System.Management.Automation;
using System.Security;
using System.Security.Cryptography.X509Certificates;
using ClusterDR.Dcos;
using ClusterDR.Etcd;
using ClusterDR.Transport;

namespace ClusterDR.Commands
{
    /// <summary>The OpenSSH options of every cmdlet that acts on nodes (-Node user@host:port).</summary>
    public abstract class NodeCmdletBase : ClusterDrCmdlet
    {
        /// <summary>known_hosts file that SSH host keys are checked against (default: the ssh client's own).</summary>
        [Parameter]
        public string KnownHostsFile { get; set; }

        /// <summary>Private key for SSH (IdentitiesOnly).</summary>
        [Parameter]
        [Alias("KeyFile")]
        public string IdentityFile { get; set; }

        /// <summary>Accept and record host keys of nodes never seen before (changed keys are still refused).</summary>
        [Parameter]
        public SwitchParameter AcceptNewHostKey { get; set; }

        protected SshOptions Ssh() => new SshOptions
        {
            KnownHostsFile = KnownHostsFile == null ? null : FileSystemPath(KnownHostsFile),
            IdentityFile = IdentityFile == null ? null : FileSystemPath(IdentityFile),
            AcceptNewHostKeys = AcceptNewHostKey.IsPresent,
        };
    }

    /// <summary>TLS parameters shared by the etcd cmdlets (etcdctl's --cacert/--cert/--key), on top of the node options.</summary>
    public abstract class EtcdCmdletBase : NodeCmdletBase
    {
        /// <summary>PEM bundle of the CA(s) that sign the etcd servers' certificates.</summary>
        [Parameter]
        [Alias("CACert")]
        public string CaCertificatePath { get; set; }

        /// <summary>PEM client certificate (with -ClientKeyPath); PowerShell 7 only.</summary>
        [Parameter]
        [Alias("Cert")]
        public string ClientCertificatePath { get; set; }

        /// <summary>PEM private key of the client certificate.</summary>
        [Parameter]
        [Alias("Key")]
        public string ClientKeyPath { get; set; }

        /// <summary>A client certificate with its private key (Get-PfxCertificate, Cert: drive).</summary>
        [Parameter]
        public X509Certificate2 ClientCertificate { get; set; }

        /// <summary>TLS files on this machine, for talking to etcd from here.</summary>
        protected EtcdTlsOptions Tls() => new EtcdTlsOptions
        {
            CaCertificatePath = CaCertificatePath == null ? null : FileSystemPath(CaCertificatePath),
            ClientCertificatePath = ClientCertificatePath == null ? null : FileSystemPath(ClientCertificatePath),
            ClientKeyPath = ClientKeyPath == null ? null : FileSystemPath(ClientKeyPath),
            ClientCertificate = ClientCertificate,
        };

        /// <summary>TLS files on a node, handed to etcdctl there as given; a certificate object cannot travel.</summary>
        protected EtcdTlsOptions NodeTls()
        {
            if (ClientCertificate != null)
                throw new ClusterDrException(ErrorIds.TlsConfiguration, ErrorKind.InvalidArgument,
                    "-ClientCertificate works with -Endpoint only; with -Node or -SshSession give -ClientCertificatePath and -ClientKeyPath as paths on that node.");
            return new EtcdTlsOptions { CaCertificatePath = CaCertificatePath, ClientCertificatePath = ClientCertificatePath, ClientKeyPath = ClientKeyPath };
        }
    }

    /// <summary>The cluster URL, ACS token, TLS trust and wait options of the DC/OS backup cmdlets.</summary>
    public abstract class DcosCmdletBase : ClusterDrCmdlet
    {
        /// <summary>The DC/OS cluster URL (Admin Router); binds the Uri property of DC/OS backup objects.</summary>
        [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
        [Alias("ClusterUrl")]
        public Uri Uri { get; set; }

        /// <summary>The ACS token, sent as "Authorization: token=…".</summary>
        [Parameter]
        public SecureString AcsToken { get; set; }

        /// <summary>PEM bundle of the CA that signs Admin Router's certificate.</summary>
        [Parameter]
        [Alias("CACert")]
        public string CaCertificatePath { get; set; }

        /// <summary>Poll until the service reports STATUS_READY (or an error).</summary>
        [Parameter]
        public SwitchParameter Wait { get; set; }

        [Parameter]
        [ValidateRange(1, 86400)]
        public int WaitTimeoutSec { get; set; } = 900;

        [Parameter]
        [ValidateRange(1, 300)]
        public int PollIntervalSec { get; set; } = 5;

        protected virtual DcosRequest Request() => new DcosRequest
        {
            Uri = Uri,
            AcsToken = AcsToken,
            CaCertificatePath = CaCertificatePath == null ? null : FileSystemPath(CaCertificatePath),
            Wait = Wait,
            WaitTimeout = TimeSpan.FromSeconds(WaitTimeoutSec),
            PollInterval = TimeSpan.FromSeconds(PollIntervalSec),
        };
    }

    /// <summary>New- and Restore-DcosBackup: the ZooKeeper guard through Exhibitor, and its override.</summary>
    public abstract class DcosGuardedCmdletBase : DcosCmdletBase
    {
        /// <summary>Exhibitor on the masters; on DC/OS the cluster URL itself (Admin Router serves /exhibitor/).</summary>
        [Parameter]
        public Uri ExhibitorUri { get; set; }

        /// <summary>Go on when ZooKeeper is not whole or Exhibitor cannot be read. Never suppresses confirmation.</summary>
        [Parameter]
        public SwitchParameter Force { get; set; }

        protected override DcosRequest Request()
        {
            var r = base.Request();
            r.ExhibitorUri = ExhibitorUri;
            r.Force = Force;
            return r;
        }
    }
}

namespace ClusterDR.Commands
{
    /// <summary>The node (-Node or -SshSession) and docker CLI options of the Swarm cmdlets.</summary>
    public abstract class SwarmCmdletBase : NodeCmdletBase
    {
        protected const string NodeSet = "Node", SessionSet = "SshSession";

        /// <summary>The manager: "localhost" or an SSH target user@host:port.</summary>
        [Parameter(Mandatory = true, Position = 0, ParameterSetName = NodeSet, ValueFromPipelineByPropertyName = true)]
        [Alias("ComputerName")]
        public virtual string Node { get; set; }

        /// <summary>A Posh-SSH session (New-SSHSession) to the manager.</summary>
        [Parameter(Mandatory = true, ParameterSetName = SessionSet)]
        public virtual object SshSession { get; set; }

        /// <summary>The docker CLI on the node.</summary>
        [Parameter]
        public string DockerPath { get; set; } = "docker";

        /// <summary>DOCKER_HOST for the CLI on the node (default: its own default socket).</summary>
        [Parameter]
        public string DockerHost { get; set; }

        protected IRemoteShell Shell() => ShellFactory.Create(Node, SshSession, Ssh());

        protected virtual Swarm.SwarmNodeOptions Options() => new Swarm.SwarmNodeOptions { DockerPath = DockerPath, DockerHost = DockerHost };
    }

    /// <summary>Swarm cmdlets that stop and start Docker: where its state lives and how to stop/start it.</summary>
    public abstract class SwarmDaemonCmdletBase : SwarmCmdletBase
    {
        /// <summary>dockerd's --data-root on the node; the swarm state is its swarm/ subdirectory.</summary>
        [Parameter]
        public string DataRoot { get; set; } = "/var/lib/docker";

        /// <summary>The systemd unit of Docker (used unless -StopCommand/-StartCommand are given).</summary>
        [Parameter]
        public string ServiceName { get; set; } = "docker";

        /// <summary>A sh command that stops Docker on the node (default: systemctl stop docker.socket docker.service).</summary>
        [Parameter]
        public string StopCommand { get; set; }

        /// <summary>A sh command that starts Docker on the node and returns (default: systemctl start docker.service).</summary>
        [Parameter]
        public string StartCommand { get; set; }

        /// <summary>Autolock key (SecureString), passed to docker swarm unlock on stdin.</summary>
        [Parameter]
        public SecureString UnlockKey { get; set; }

        /// <summary>Seconds to wait for Docker to stop, to start and for the swarm to be ready.</summary>
        [Parameter]
        [ValidateRange(5, 3600)]
        public int WaitTimeoutSec { get; set; } = 120;

        protected override Swarm.SwarmNodeOptions Options()
        {
            var o = base.Options();
            o.DataRoot = DataRoot;
            o.Unit = ServiceName;
            o.StopCommand = StopCommand;
            o.StartCommand = StartCommand;
            o.WaitTimeout = TimeSpan.FromSeconds(WaitTimeoutSec);
            return o;
        }
    }
}

namespace ClusterDR.Commands
{
    /// <summary>The S3 gateway, keys and store/database nodes of the Deis store cmdlets.</summary>
    public abstract class DeisStoreCmdletBase : NodeCmdletBase
    {
        /// <summary>The store's S3 gateway, addressed path-style (http://deis-store.example.com).</summary>
        [Parameter(Mandatory = true)]
        [Alias("Gateway")]
        public Uri GatewayUri { get; set; }

        /// <summary>Access key (user name) and secret key (password); without it the keys are read with deisctl on -Node.</summary>
        [Parameter]
        public PSCredential Credential { get; set; }

        protected const string NodeSet = "Node", SessionSet = "SshSession";

        /// <summary>A store node ("localhost" or user@host:port): Ceph guard, store volume, deisctl.</summary>
        [Parameter(Position = 0, ParameterSetName = NodeSet)]
        [Alias("ComputerName", "StoreNode")]
        public virtual string Node { get; set; }

        /// <summary>A Posh-SSH session (New-SSHSession) to a store node, instead of -Node.</summary>
        [Parameter(Mandatory = true, ParameterSetName = SessionSet)]
        public virtual object SshSession { get; set; }

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
