using System.Management.Automation;
using System.Security;
using ClusterDR.Swarm;

namespace ClusterDR.Commands
{
    /// <summary>The swarm's autolock unlock key, as a SecureString unless -AsPlainText.</summary>
    [Cmdlet(VerbsCommon.Get, "SwarmUnlockKey", HelpUri = DocsUri.Base + "Get-SwarmUnlockKey.md", DefaultParameterSetName = NodeSet)]
    [OutputType(typeof(SecureString), typeof(string))]
    public sealed class GetSwarmUnlockKeyCommand : SwarmCmdletBase
    {
        [Parameter]
        public SwitchParameter AsPlainText { get; set; }

        protected override void ProcessRecord() => Run(() =>
        {
            using (var sh = Shell())
            {
                var key = SwarmUnlockKeys.Get(sh, Options(), Context);
                WriteObject(AsPlainText ? (object)Secrets.Plain(key) : key);
            }
        });
    }
}
