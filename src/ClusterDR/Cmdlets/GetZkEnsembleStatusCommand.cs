using System;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using System.Security;
using ClusterDR.ZooKeeper;

namespace ClusterDR.Commands
{
    /// <summary>
    /// The quorum status of a ZooKeeper ensemble: every server's mode, serving or not, zxid, znode
    /// count, outstanding requests and latency, plus quorum size and fault tolerance. Asks each server
    /// with four-letter words (srvr/mntr/conf), its AdminServer, or Exhibitor's cluster status.
    /// </summary>
    [Cmdlet(VerbsCommon.Get, "ZkEnsembleStatus", HelpUri = DocsUri.Base + "Get-ZkEnsembleStatus.md", DefaultParameterSetName = ServerSet)]
    [OutputType(typeof(QuorumStatus))]
    public sealed class GetZkEnsembleStatusCommand : ClusterDrCmdlet
    {
        private const string ServerSet = "Server", AdminSet = "AdminServer", ExhibitorSet = "Exhibitor";

        /// <summary>Client addresses (host:port) of the servers, asked with four-letter words.</summary>
        [Parameter(Mandatory = true, Position = 0, ParameterSetName = ServerSet, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
        [Alias("ClientAddress")]
        [ValidateNotNullOrEmpty]
        public string[] Server { get; set; }

        /// <summary>AdminServer URLs (http://host:8080/commands) of the servers.</summary>
        [Parameter(Mandatory = true, ParameterSetName = AdminSet)]
        public Uri[] AdminServerUri { get; set; }

        /// <summary>Exhibitor's base URL, a DC/OS cluster URL, or the full /exhibitor/v1/cluster/status URL.</summary>
        [Parameter(Mandatory = true, ParameterSetName = ExhibitorSet)]
        public Uri ExhibitorUri { get; set; }

        /// <summary>DC/OS ACS token for Admin Router (sent as "Authorization: token=…").</summary>
        [Parameter(ParameterSetName = ExhibitorSet)]
        public SecureString AcsToken { get; set; }

        /// <summary>Seconds to wait for each server's answer.</summary>
        [Parameter]
        [ValidateRange(1, 300)]
        public int TimeoutSec { get; set; } = 3;

        private readonly List<string> _servers = new List<string>();

        protected override void ProcessRecord() => Run(() =>
        {
            if (Server != null) _servers.AddRange(Server);
        });

        protected override void EndProcessing() => Run(() =>
        {
            using var debug = Transport.DebugLog.To(Context);
            var timeout = TimeSpan.FromSeconds(TimeoutSec);
            QuorumStatus status;
            if (ParameterSetName == ExhibitorSet)
                status = ExhibitorStatusReader.Read(ExhibitorUri, Secrets.Plain(AcsToken), Cancellation, timeout: timeout);
            else
            {
                var targets = ParameterSetName == AdminSet
                    ? AdminServerUri.Select(u => new ZkTarget { AdminUri = u })
                    : _servers.Distinct().Select(s => new ZkTarget { Address = s });
                status = ZkStatusReader.Read(targets, timeout, Cancellation);
                if (status.Members.All(m => m.Endpoint == null))
                    throw new ClusterDrException(ErrorIds.EndpointUnreachable, ErrorKind.ConnectionError,
                        "No ZooKeeper server answered: " + string.Join("; ", status.Members.Select(m => m.Name + ": " + m.Problem)));
            }
            if (!status.HasQuorum) WriteWarning($"The ZooKeeper ensemble has no quorum: {status}.");
            WriteObject(status);
        });
    }
}
