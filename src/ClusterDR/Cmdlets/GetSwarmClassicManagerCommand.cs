using System;
using System.Management.Automation;
using ClusterDR.Swarm;
using ClusterDR.Transport;

namespace ClusterDR.Commands
{
    /// <summary>Classic Swarm HA managers (swarm manage --replication): role, primary, nodes, strategy and filters from each one's /info.</summary>
    [Cmdlet(VerbsCommon.Get, "SwarmClassicManager", HelpUri = DocsUri.Base + "Get-SwarmClassicManager.md")]
    [OutputType(typeof(SwarmClassicManager))]
    public sealed class GetSwarmClassicManagerCommand : ClusterDrCmdlet
    {
        /// <summary>host:port (or URL) of each manager's Docker API.</summary>
        [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
        public string[] Endpoint { get; set; }

        [Parameter]
        [ValidateRange(1, 300)]
        public int TimeoutSec { get; set; } = 3;

        protected override void ProcessRecord() => Run(() =>
        {
            using var debug = DebugLog.To(Context);
            WriteObject(SwarmClassic.Read(Endpoint, TimeSpan.FromSeconds(TimeoutSec), Cancellation), enumerateCollection: true);
        });
    }
}
