using System;
using ClusterDR.Tests.Dcos;

namespace ClusterDR.Tests
{
    /// <summary>
    /// `dotnet ClusterDR.Tests.dll fake-dcos` runs the DC/OS fake for the Pester suite in its own process:
    /// it prints the fake's URL and serves until its standard input closes.
    /// </summary>
    public static class Program
    {
        public static int Main(string[] args)
        {
            if (args.Length != 1 || args[0] != "fake-dcos")
            {
                Console.Error.WriteLine("usage: dotnet ClusterDR.Tests.dll fake-dcos (the tests themselves run with dotnet test)");
                return 2;
            }
            using (var fake = new FakeDcos())
            {
                Console.WriteLine(fake.Uri);
                Console.Out.Flush();
                while (Console.In.Read() >= 0) { }
            }
            return 0;
        }
    }
}
