// Bad input for what strangers present as credentials: viewer tokens (live-token.ts) and
// pairing codes (pairing.ts).
import { liveTokenFamilies } from "../../../test/bad-input/properties/live-token.js";
import { pairingFamilies } from "../../../test/bad-input/properties/pairing.js";
import { propertyTests } from "../../../test/bad-input/properties/unit.js";

propertyTests([...liveTokenFamilies, ...pairingFamilies]);
