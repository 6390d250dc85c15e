"""Exchange of places ("Обмен местами"): parents whose children hold a place swap places in
cycles found by top trading cycles during a campaign staff open (campaigns, requests, cycles)."""
