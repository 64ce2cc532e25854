using System.Management.Automation;
using ClusterDR.Transport;

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
}
