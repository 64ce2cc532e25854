namespace ClusterDR.Safety
{
    /// <summary>Raft/ZAB majority arithmetic, in one place.</summary>
    public static class Quorum
    {
        /// <summary>quorum(N) = floor(N/2) + 1.</summary>
        public static int Size(int members) => members <= 0 ? 0 : members / 2 + 1;

        /// <summary>How many more healthy members may fail before quorum is lost (never negative).</summary>
        public static int FaultTolerance(int members, int healthy)
        {
            int spare = healthy - Size(members);
            return spare < 0 ? 0 : spare;
        }

        public static bool HasQuorum(int members, int healthy) => members > 0 && healthy >= Size(members);
    }
}
