using System;
using System.Net;
using System.Text;
using System.Threading.Tasks;

namespace ClusterDR.Tests.Fixtures
{
    /// <summary>An HTTP server on 127.0.0.1 for services that cannot run here (Exhibitor, the DC/OS backup service).</summary>
    internal static class LoopbackHttp
    {
        /// <summary>Serves every request with <paramref name="answer"/>; dispose the listener to stop.</summary>
        public static (HttpListener Listener, Uri Uri) Serve(Func<HttpListenerRequest, (int Code, string Body)> answer)
        {
            int port = TestEnv.FreePorts(1);
            var l = new HttpListener();
            l.Prefixes.Add($"http://127.0.0.1:{port}/");
            l.Start();
            Task.Run(async () =>
            {
                while (l.IsListening)
                {
                    HttpListenerContext c;
                    try { c = await l.GetContextAsync(); } catch { return; }
                    var (code, body) = answer(c.Request);
                    c.Response.StatusCode = code;
                    c.Response.ContentType = "application/json";
                    var bytes = Encoding.UTF8.GetBytes(body);
                    c.Response.OutputStream.Write(bytes);
                    c.Response.Close();
                }
            });
            return (l, new Uri($"http://127.0.0.1:{port}/"));
        }
    }
}
