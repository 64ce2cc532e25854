using System.Management.Automation;
using ClusterDR.Transport;

namespace ClusterDR.Commands
{
    /// <summary>
    /// The etcd cmdlets that talk to a member from here (-Endpoint) or run etcdctl on one node (-Node or -SshSession).
    /// Not a SingleNodeCmdletBase: they need the TLS options of EtcdCmdletBase, and -Endpoint holds position 0.
    /// </summary>
    public abstract class EtcdNodeCmdletBase : EtcdCmdletBase
    {
        protected const string EndpointSet = "Endpoint";

        /// <summary>Run etcdctl on this node ("localhost" or user@host:port).</summary>
        [Parameter(Mandatory = true, ParameterSetName = NodeSet)]
        [Alias("ComputerName")]
        public string Node { get; set; }

        /// <summary>A Posh-SSH session (New-SSHSession) to run etcdctl through.</summary>
        [Parameter(Mandatory = true, ParameterSetName = SessionSet)]
        public object SshSession { get; set; }

        /// <summary>The shell to the node: the Posh-SSH session when given, else -Node.</summary>
        protected IRemoteShell Shell() => ShellFactory.Create(Node, SshSession, Ssh());
    }
}
