using System;
using System.Management.Automation;
using ClusterDR.Swarm;
using ClusterDR.Transport;

namespace ClusterDR.Commands
{
    /// <summary>A failover drill for classic Swarm HA: stop the primary, time the takeover by a replica, start the old primary again.</summary>
    [Cmdlet(VerbsDiagnostic.Test, "SwarmClassicFailover", HelpUri = DocsUri.Base + "Test-SwarmClassicFailover.md", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High)]
    [OutputType(typeof(SwarmClassicFailoverResult))]
    public sealed class TestSwarmClassicFailoverCommand : NodeCmdletBase
    {
        /// <summary>host:port of every manager.</summary>
        [Parameter(Mandatory = true, Position = 0)]
        public string[] Endpoint { get; set; }

        /// <summary>sh command that stops the Swarm manager on the primary's node (for example: docker stop swarm-manager).</summary>
        [Parameter(Mandatory = true)]
        public string StopCommand { get; set; }

        /// <summary>sh command that starts it again.</summary>
        [Parameter(Mandatory = true)]
        public string StartCommand { get; set; }

        /// <summary>Where the primary runs ("localhost" or user@host:port); default: the primary endpoint's host over SSH.</summary>
        [Parameter]
        [Alias("ComputerName")]
        public string Node { get; set; }

        /// <summary>A Posh-SSH session to the primary's node.</summary>
        [Parameter]
        public object SshSession { get; set; }

        [Parameter]
        [ValidateRange(1, 3600)]
        public int TimeoutSec { get; set; } = 120;

        protected override void ProcessRecord() => Run(() =>
        {
            var ssh = Ssh();
            var r = SwarmClassic.TestFailover(new SwarmClassicFailoverRequest
            {
                Endpoints = Endpoint,
                StopCommand = StopCommand,
                StartCommand = StartCommand,
                Timeout = TimeSpan.FromSeconds(TimeoutSec),
                ShellFor = primary => ShellFactory.Create(Node ?? SwarmClassic.InfoUri(primary).Host, SshSession, ssh),
            }, Context);
            if (r != null) WriteObject(r);
        });
    }
}
