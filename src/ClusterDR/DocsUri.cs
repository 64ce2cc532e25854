namespace ClusterDR.Commands
{
    /// <summary>Where each cmdlet's page is published; Get-Help -Online opens Base + "&lt;Verb-Noun&gt;.md".</summary>
    internal static class DocsUri
    {
        public const string Base = "https://github.com/clusterdr/ClusterDR/blob/main/docs/en-US/";
    }
}
