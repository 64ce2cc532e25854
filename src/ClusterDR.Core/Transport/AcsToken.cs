using System.Net.Http;

namespace ClusterDR.Transport
{
    /// <summary>
    /// DC/OS Admin Router's authentication: "Authorization: token=&lt;ACS token&gt;". Added without header
    /// validation because that validation would echo the token in its exception message.
    /// </summary>
    public static class AcsToken
    {
        public static void Authorize(HttpRequestMessage request, string token)
        {
            if (!string.IsNullOrEmpty(token)) request.Headers.TryAddWithoutValidation("Authorization", "token=" + token);
        }
    }
}
