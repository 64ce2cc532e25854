using System;
using System.Management.Automation;
using System.Security;

namespace ClusterDR.Commands
{
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
