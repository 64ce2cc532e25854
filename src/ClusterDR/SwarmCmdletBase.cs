using System.Management.Automation;

namespace ClusterDR.Commands
{
    /// <summary>The docker CLI options of the Swarm cmdlets.</summary>
    public abstract class SwarmCmdletBase : SingleNodeCmdletBase
    {
        /// <summary>The docker CLI on the node.</summary>
        [Parameter]
        public string DockerPath { get; set; } = "docker";

        /// <summary>DOCKER_HOST for the CLI on the node (default: its own default socket).</summary>
        [Parameter]
        public string DockerHost { get; set; }

        protected virtual Swarm.SwarmNodeOptions Options() => new Swarm.SwarmNodeOptions { DockerPath = DockerPath, DockerHost = DockerHost };
    }
}
