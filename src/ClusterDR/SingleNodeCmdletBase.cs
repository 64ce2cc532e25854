using System.Management.Automation;
using ClusterDR.Transport;

namespace ClusterDR.Commands
{
    /// <summary>
    /// Cmdlets that act on one node: -Node (an SSH target, or "localhost") or -SshSession (Posh-SSH), one parameter set
    /// each, and the shell to that node. A cmdlet whose position 0 belongs to something else (an archive to restore, an
    /// endpoint), or whose node is optional, overrides Node or SshSession with its own attributes and sets.
    /// </summary>
    public abstract class SingleNodeCmdletBase : NodeCmdletBase
    {
        /// <summary>The node: "localhost" or an SSH target user@host:port.</summary>
        [Parameter(Mandatory = true, Position = 0, ParameterSetName = NodeSet, ValueFromPipelineByPropertyName = true)]
        [Alias("ComputerName")]
        public virtual string Node { get; set; }

        /// <summary>A Posh-SSH session (New-SSHSession) to the node, instead of -Node.</summary>
        [Parameter(Mandatory = true, ParameterSetName = SessionSet)]
        public virtual object SshSession { get; set; }

        /// <summary>The shell to the node: the Posh-SSH session when given, else -Node.</summary>
        protected IRemoteShell Shell() => ShellFactory.Create(Node, SshSession, Ssh());
    }
}
