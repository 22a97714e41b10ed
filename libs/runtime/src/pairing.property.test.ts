import { pairingFamilies } from "../../../test/bad-input/properties/pairing.js";
import { propertyTests } from "../../../test/bad-input/properties/unit.js";

propertyTests(pairingFamilies);
