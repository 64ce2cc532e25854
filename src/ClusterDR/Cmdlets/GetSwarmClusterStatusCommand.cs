using System.Management.Automation;
using ClusterDR.Swarm;
using ClusterDR.Transport;

namespace ClusterDR.Commands
{
    /// <summary>The quorum status of a swarm as one manager sees it: managers, reachability, leader, workers, quorum, autolock, the local node's state.</summary>
    [Cmdlet(VerbsCommon.Get, "SwarmClusterStatus", HelpUri = DocsUri.Base + "Get-SwarmClusterStatus.md", DefaultParameterSetName = NodeSet)]
    [OutputType(typeof(SwarmClusterStatus))]
    public sealed class GetSwarmClusterStatusCommand : SwarmCmdletBase
    {
        protected override void ProcessRecord() => Run(() =>
        {
            using var debug = DebugLog.To(Context);
            using (var sh = Shell())
            {
                var s = SwarmStatusReader.Read(sh, Options(), Cancellation);
                if (s.IsManager && s.Managers.Length > 0 && !s.HasQuorum) WriteWarning($"The swarm has no quorum: {s}.");
                WriteObject(s);
            }
        });
    }
}
