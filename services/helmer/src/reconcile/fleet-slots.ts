/** In-flight chart upgrades per composition (in memory: after a restart, nothing is in flight). */
export class FleetSlots {
  private readonly slots = new Map<string, Set<string>>();

  inFlight(rcKey: string): number {
    return this.slots.get(rcKey)?.size ?? 0;
  }

  holds(rcKey: string, instanceKey: string): boolean {
    return this.slots.get(rcKey)?.has(instanceKey) ?? false;
  }

  take(rcKey: string, instanceKey: string): void {
    let set = this.slots.get(rcKey);
    if (!set) {
      set = new Set();
      this.slots.set(rcKey, set);
    }
    set.add(instanceKey);
  }

  give(rcKey: string, instanceKey: string): void {
    this.slots.get(rcKey)?.delete(instanceKey);
  }
}
