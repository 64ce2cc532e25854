using System;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using ClusterDR.Etcd;
using ClusterDR.Transport;

namespace ClusterDR.Commands
{
    /// <summary>
    /// The quorum status of an etcd cluster: members, health, leader, quorum size, fault tolerance.
    /// Read from here over the client URLs, or by running etcdctl on a node (-Node / -SshSession)
    /// for etcd bound to that node's loopback.
    /// </summary>
    [Cmdlet(VerbsCommon.Get, "EtcdClusterStatus", HelpUri = DocsUri.Base + "Get-EtcdClusterStatus.md", DefaultParameterSetName = EndpointSet)]
    [OutputType(typeof(QuorumStatus))]
    public sealed class GetEtcdClusterStatusCommand : EtcdNodeCmdletBase
    {
        /// <summary>Client URLs; with -Node/-SshSession, the one URL etcdctl uses on that node.</summary>
        [Parameter(Mandatory = true, Position = 0, ParameterSetName = EndpointSet, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
        [Parameter(ParameterSetName = NodeSet, ValueFromPipelineByPropertyName = true)]
        [Parameter(ParameterSetName = SessionSet, ValueFromPipelineByPropertyName = true)]
        [Alias("ClientUrl", "Endpoints")]
        public Uri[] Endpoint { get; set; }

        /// <summary>etcdctl on the node.</summary>
        [Parameter(ParameterSetName = NodeSet)]
        [Parameter(ParameterSetName = SessionSet)]
        public string EtcdctlPath { get; set; } = "etcdctl";

        /// <summary>Seconds to wait for each member's answer.</summary>
        [Parameter]
        [ValidateRange(1, 300)]
        public int TimeoutSec { get; set; } = 3;

        private readonly List<Uri> _endpoints = new List<Uri>();

        protected override void ProcessRecord() => Run(() =>
        {
            if (Endpoint != null) _endpoints.AddRange(Endpoint);
        });

        protected override void EndProcessing() => Run(() =>
        {
            using var debug = DebugLog.To(Context);
            QuorumStatus status;
            if (ParameterSetName == EndpointSet)
            {
                status = EtcdStatusReader.Read(_endpoints.Distinct(), Tls(), Cancellation, timeout: TimeSpan.FromSeconds(TimeoutSec));
                if (status.Members.All(m => m.Endpoint == null))
                    throw new ClusterDrException(ErrorIds.EndpointUnreachable, ErrorKind.ConnectionError,
                        "No etcd member answered: " + string.Join("; ", status.Members.Select(m => m.Name + ": " + m.Problem)), string.Join(",", _endpoints));
            }
            else
            {
                string endpoint = (_endpoints.FirstOrDefault() ?? new Uri("http://127.0.0.1:2379")).ToString().TrimEnd('/');
                using (var shell = Shell())
                    status = EtcdStatusReader.ReadOnNode(shell, endpoint, NodeTls(), EtcdctlPath, Cancellation);
            }
            if (!status.HasQuorum) WriteWarning($"The etcd cluster has no quorum: {status}.");
            WriteObject(status);
        });
    }
}
